#!/usr/bin/python3
"""Start the real Thunderbird, headless, on a new throw-away profile whose
user.js is the given file, and print as JSON the accounts Thunderbird loaded
from it: incoming server, identities and the outgoing server each identity
sends through.

Usage: tb-read-account.py THUNDERBIRD_LIB_DIR USER_JS

THUNDERBIRD_LIB_DIR is ../shared/tools/thunderbird/lib; its tbharness starts
and always cleans up Thunderbird. The file under test is appended, verbatim,
after the harness's own preferences, so Thunderbird parses it as it would
parse the file a user copies into a profile.
"""

import json
import sys

sys.path.insert(0, sys.argv[1])
import tbharness  # noqa: E402

with open(sys.argv[2], encoding="utf-8") as f:
    USER_JS = f.read()

# The harness writes its preferences one line per entry; this marker entry
# becomes the whole file under test instead.
MARKER = "mailsetup.test.user_js_goes_here"
_harness_pref_line = tbharness._pref_line


def _pref_line(name, value):
    if name == MARKER:
        return "\n" + USER_JS + "\n"
    return _harness_pref_line(name, value)


tbharness._pref_line = _pref_line

READ_ACCOUNTS = r"""
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const out = { accounts: [], defaultAccount: null };
const def = MailServices.accounts.defaultAccount;
if (def) out.defaultAccount = def.key;
for (const a of MailServices.accounts.accounts) {
  const s = a.incomingServer;
  const e = {
    key: a.key, type: s.type, hostname: s.hostname, port: s.port,
    socketType: s.socketType, authMethod: s.authMethod, username: s.username,
    prettyName: s.prettyName, identities: [],
  };
  if (s.type == "pop3") {
    e.leaveOnServer = s.getBoolValue("leave_on_server");
    e.deleteByAge = s.getBoolValue("delete_by_age_from_server");
    e.daysToLeave = s.getIntValue("num_days_to_leave_on_server");
  }
  for (const id of a.identities) {
    const i = { key: id.key, fullName: id.fullName, email: id.email, smtpServerKey: id.smtpServerKey, valid: id.valid };
    const o = MailServices.outgoingServer.getServerByIdentity(id);
    if (o) {
      const smtp = o.QueryInterface(Ci.nsISmtpServer);
      i.outgoing = {
        key: o.key, hostname: smtp.hostname, port: smtp.port,
        socketType: o.socketType, authMethod: o.authMethod, username: o.username,
      };
    }
    e.identities.push(i);
  }
  out.accounts.push(e);
}
return out;
"""

tbharness.install_signal_cleanup(overall_timeout=120)
# After the file under test: keep Thunderbird offline, so that it neither
# logs in at startup (a password prompt would block the first window, which
# Marionette's NewSession waits for) nor resolves the account's host names;
# any lookup that slips through stays on loopback.
TEST_ONLY_PREFS = {
    "mail.server.server1.login_at_startup": False,
    "offline.startup_state": 3,  # kAlwaysOffline
    "offline.autoDetect": False,
    "network.dns.forceResolve": "127.0.0.1",
}

with tbharness.Thunderbird(prefs={MARKER: True, **TEST_ONLY_PREFS}, startup_timeout=60) as tb:
    tb.marionette.command("WebDriver:SetTimeouts", {"script": 30000})
    value = tb.marionette.command(
        "WebDriver:ExecuteScript",
        {"script": READ_ACCOUNTS, "args": [], "newSandbox": True},
        timeout=35)
    result = value.get("value") if isinstance(value, dict) else value
    result["thunderbird"] = tb.timings
print(json.dumps(result))
