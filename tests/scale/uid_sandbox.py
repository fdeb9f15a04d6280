"""Run by test_many_users as an unprivileged uid: ``start`` / ``stop`` its own sandbox, or
``probe DIR PID`` another user's (read its state, stop it, signal its server)."""

import json
import os
import signal
import sys

from toipkit.xivo import sandbox

action = sys.argv[1]
if action == "start":
    info = sandbox.start()
    print(json.dumps({"url": info.url, "pid": info.pid, "data_dir": str(info.data_dir)}))
elif action == "stop":
    print(json.dumps({"stopped": sandbox.stop()}))
elif action == "probe":
    other_dir, other_pid = sys.argv[2], int(sys.argv[3])
    seen = {"status": None, "stop": None, "kill": None}
    try:
        seen["status"] = repr(sandbox.status(other_dir))
    except OSError as exc:
        seen["status"] = type(exc).__name__
    try:
        seen["stop"] = repr(sandbox.stop(other_dir))
    except OSError as exc:
        seen["stop"] = type(exc).__name__
    try:
        os.kill(other_pid, signal.SIGTERM)
        seen["kill"] = "sent"
    except OSError as exc:
        seen["kill"] = type(exc).__name__
    print(json.dumps(seen))
