/* Passkeys: sign in with one (a button, and the browser's own suggestion in the e-mail field
   where it offers one), and make one (after sign-up and in Settings). The server's options
   and the browser's answers travel as JSON with base64url strings (py_webauthn's shape);
   the words shown come from the page (data-* attributes), in the reader's language. */
(function () {
  "use strict";

  const supported = "PublicKeyCredential" in self && !!navigator.credentials;
  const { announce } = self.pn;
  const { api } = self.pn.push;

  const fromB64u = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") +
    "=".repeat((4 - s.length % 4) % 4)), (c) => c.charCodeAt(0)).buffer;
  const toB64u = (b) => btoa(String.fromCharCode(...new Uint8Array(b)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const withIds = (list) => (list || []).map((c) => Object.assign({}, c, { id: fromB64u(c.id) }));

  /* The options as the browser takes them: its own parser where it has one. */
  function creationOptions(o) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    }
    return Object.assign({}, o, {
      challenge: fromB64u(o.challenge),
      user: Object.assign({}, o.user, { id: fromB64u(o.user.id) }),
      excludeCredentials: withIds(o.excludeCredentials),
    });
  }

  function requestOptions(o) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    }
    return Object.assign({}, o, {
      challenge: fromB64u(o.challenge), allowCredentials: withIds(o.allowCredentials),
    });
  }

  /* The browser's answer as JSON: credential.toJSON() where there is one. */
  function asJSON(cred) {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    const r = cred.response;
    const response = { clientDataJSON: toB64u(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64u(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64u(r.authenticatorData);
      response.signature = toB64u(r.signature);
      if (r.userHandle) response.userHandle = toB64u(r.userHandle);
    }
    return {
      id: cred.id, rawId: toB64u(cred.rawId), type: cred.type, response,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
    };
  }

  /* A phone or computer that can make a passkey itself (face, fingerprint, PIN). */
  async function canMake() {
    if (!supported || !PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable) {
      return false;
    }
    try {
      return await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable();
    } catch (e) {
      return false;
    }
  }

  // The person cancelled, or took too long: not an error to shout about.
  const cancelled = (err) => err && (err.name === "NotAllowedError" || err.name === "AbortError");
  // The server's reason is in the reader's language; the browser's is not.
  const reason = (err, el) => (err instanceof DOMException || !err.message
    ? el.dataset.failed : err.message);

  /* Signing in: the button, and the browser's suggestion (conditional mediation). */
  const signIn = document.querySelector("[data-passkey-sign-in]");
  if (signIn && supported) {
    const box = signIn.closest("[data-passkey-box]") || signIn;
    box.hidden = false;
    let waiting = null; // the suggestion's request, ended when the button is tapped

    async function finish(cred) {
      const result = await api("POST", "/auth/passkey-login", { credential: asJSON(cred) });
      localStorage.setItem("pnapp.user", String(result.user.id));
      location.assign(signIn.dataset.next || "/");
    }

    async function ask(mediation) {
      const options = await api("POST", "/auth/passkey-login/options");
      const request = { publicKey: requestOptions(options) };
      if (mediation) {
        waiting = new AbortController();
        Object.assign(request, { mediation, signal: waiting.signal });
      }
      const cred = await navigator.credentials.get(request);
      if (cred) {
        await finish(cred).catch((err) => {
          throw Object.assign(err, { chosen: true });
        });
      }
    }

    signIn.addEventListener("click", async () => {
      if (waiting) waiting.abort();
      waiting = null;
      signIn.disabled = true;
      try {
        await ask(null);
      } catch (err) {
        announce(cancelled(err) ? signIn.dataset.cancelled : reason(err, signIn));
      } finally {
        signIn.disabled = false;
      }
    });

    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((yes) => {
        if (yes) {
          // A suggestion that could not be offered (no passkey here, a busy server) is not
          // the person's doing: only a passkey they chose and the server refused is told.
          ask("conditional").catch((err) => {
            if (err && err.chosen) announce(reason(err, signIn));
          });
        }
      }).catch(() => {});
    }
  }

  /* Sign-up: where this device can make a passkey, the offer follows. */
  const offer = document.querySelector("[data-passkey-offer]");
  if (offer) canMake().then((yes) => { offer.value = yes ? "offer" : ""; });

  /* Making one: Settings' button, and the offer after sign-up. */
  const add = document.querySelector("[data-passkey-add]");
  if (add) {
    const box = add.closest("[data-passkey-box]") || add;
    canMake().then((yes) => { box.hidden = !yes; });
    add.addEventListener("click", async () => {
      add.disabled = true;
      try {
        const options = await api("POST", "/auth/passkeys/options");
        const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
        await api("POST", "/auth/passkeys", { credential: asJSON(cred) });
        location.assign(add.dataset.done);
      } catch (err) {
        announce(cancelled(err) ? add.dataset.cancelled
          : err.name === "InvalidStateError" ? add.dataset.already : reason(err, add));
      } finally {
        add.disabled = false;
      }
    });
  }
})();
