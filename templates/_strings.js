{#- Everything the scripts in static/js show or say, in the reader's language,
    as one JSON object: base.html puts it in <meta name="pnapp-strings" content='...'> (data,
    not an inline script, so the strict CSP and test_security allow it; tojson escapes < > & '
    so it is safe in a single-quoted attribute) and sw.js gives it to the service worker as
    self.pnStrings. The scripts replace {name} with a value (t() in core.js). Plurals come as
    two keys, .one and .other, picked with Intl.PluralRules. -#}
{%- set reminders_on = _("Reminders are on for this phone.") -%}
{%- set test_on_its_way = _("A test reminder is on its way.") -%}
{%- set reminders_off = _("Reminders are off for this phone.") -%}
{%- set address_copied = _("The address is copied. Paste it into your calendar.") -%}
{%- set link_copied = _("The link is copied. Paste it into a message.") -%}
{%- set copy_by_hand = _("Copying did not work here. The link is selected: copy it with your device's Copy command.") -%}
{#- Translators: shown after "Reminders could not be turned on:" when the server gave no reason. -#}
{%- set failed = _("Failed") -%}
{%- set check_one = ngettext("Please check this:", "Please check these:", 1) -%}
{%- set check_other = ngettext("Please check this:", "Please check these:", 2) -%}
{#- Translators: {error} is the server's reason, already in the reader's language. -#}
{%- set not_saved = _("Not saved: %(error)s", error="{error}") -%}
{%- set after_title = _("After your massage") -%}
{%- set after_intro = _("Tap a number for each question, then Save. Your ratings are kept on this phone until they are sent.") -%}
{%- set saved_enjoy = _("Saved. Enjoy your massage.") -%}
{%- set saved_offline = _("Saved on this phone. It will be sent when you are back online.") -%}
{%- set saved_thanks = _("Saved. Thank you.") -%}
{%- set waiting_one = ngettext("%(count)s session is saved on this phone, waiting to sync.", "%(count)s sessions are saved on this phone, waiting to sync.", 1, count="{count}") -%}
{%- set waiting_other = ngettext("%(count)s session is saved on this phone, waiting to sync.", "%(count)s sessions are saved on this phone, waiting to sync.", 2, count="{count}") -%}
{%- set log_in_again = _("Log in again to send them.") -%}
{#- Translators: ratings given before the massage, in the list of sessions waiting to be sent. -#}
{%- set waiting_before = _("Before: pain %(pain)s, stress %(stress)s.", pain="{pain}", stress="{stress}") -%}
{#- Translators: ratings given after the massage, in the list of sessions waiting to be sent. -#}
{%- set waiting_after = _("After: pain %(pain)s, stress %(stress)s.", pain="{pain}", stress="{stress}") -%}
{%- set rate_now = _("Rate how you feel now") -%}
{#- Translators: a tag after a session kept on the phone that has not reached the server yet. -#}
{%- set waiting_tag = _("(waiting to sync)") -%}
{%- set sync_now = _("Sync now") -%}
{#- Translators: {error} is the server's reason, already in the reader's language. -#}
{%- set send_failed = _("A saved session could not be sent: %(error)s", error="{error}") -%}
{%- set discard = _("Discard it") -%}
{%- set sent_one = ngettext("%(count)s saved session was sent.", "%(count)s saved sessions were sent.", 1, count="{count}") -%}
{%- set sent_other = ngettext("%(count)s saved session was sent.", "%(count)s saved sessions were sent.", 2, count="{count}") -%}
{%- set entry_not_saved = _("This entry could not be saved.") -%}
{#- Translators: followed by the ratings of a session saved on the phone while nobody was logged in. -#}
{%- set whose_entry = _("A session was saved on this phone while no one was logged in. Is it yours?") -%}
{%- set its_mine = _("Yes, it is mine") -%}
{%- set not_mine = _("No, it is not mine") -%}
{#- Translators: above a page kept on the phone, shown without a connection; {time} is when it was kept, e.g. "Dec 6, 2026, 9:14 AM". -#}
{%- set kept_as_of = _("You are offline. This page is as it was on %(time)s.", time="{time}") -%}
{%- set rate_again = _("Rate again when your massage is over. You can close pnapp now and come back.") -%}
{%- set heat_check = _("You used heat today: check your feet for redness or cuts.") -%}
{{- {
  "reminders_on": reminders_on,
  "test_on_its_way": test_on_its_way,
  "reminders_off": reminders_off,
  "address_copied": address_copied,
  "link_copied": link_copied,
  "copy_by_hand": copy_by_hand,
  "failed": failed,
  "check.one": check_one,
  "check.other": check_other,
  "choose.pain": labels.CHOOSE_A_NUMBER.pain|string,
  "choose.stress": labels.CHOOSE_A_NUMBER.stress|string,
  "choose.numbness": labels.CHOOSE_A_NUMBER.numbness|string,
  "choose.tingling": labels.CHOOSE_A_NUMBER.tingling|string,
  "choose.weakness": labels.CHOOSE_A_NUMBER.weakness|string,
  "not_saved": not_saved,
  "after_title": after_title,
  "after_intro": after_intro,
  "saved_enjoy": saved_enjoy,
  "saved_offline": saved_offline,
  "saved_thanks": saved_thanks,
  "waiting.one": waiting_one,
  "waiting.other": waiting_other,
  "log_in_again": log_in_again,
  "waiting_before": waiting_before,
  "waiting_after": waiting_after,
  "rate_now": rate_now,
  "waiting_tag": waiting_tag,
  "sync_now": sync_now,
  "send_failed": send_failed,
  "discard": discard,
  "sent.one": sent_one,
  "sent.other": sent_other,
  "entry_not_saved": entry_not_saved,
  "whose_entry": whose_entry,
  "its_mine": its_mine,
  "not_mine": not_mine,
  "kept_as_of": kept_as_of,
  "rate_again": rate_again,
  "heat_check": heat_check,
}|tojson -}}
