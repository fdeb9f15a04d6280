"""Run by test_registrar_phones as an unprivileged user: sandbox, two lines, one call."""

from toipkit.phone import Phone
from toipkit.xivo import connect, lab, sandbox

try:
    with connect(None) as client:
        lab.create_user_with_line(client, "Geralt", "Riv", 101)
        lab.create_user_with_line(client, "Yennefer", "Vengerberg", 102)
        caller = Phone.for_line(client, "101")
        callee = Phone.for_line(client, "102", auto_answer=True)
        print("registered", caller.number if caller.registered else "-",
              callee.number if callee.registered else "-")
        call = caller.call("102", duration=1.0)
        print("answered", call.answered)
        callee.hangup()
        print("recording", callee.last_recording().duration > 0.5)
        caller.close()
        callee.close()
finally:
    sandbox.stop()
