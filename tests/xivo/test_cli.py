"""`toipkit sandbox ...` and `toipkit xivo ...` commands."""

from __future__ import annotations

from toipkit.cli import main


def test_sandbox_commands(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TOIPKIT_HOME", str(tmp_path))
    data = str(tmp_path / "sb")
    try:
        assert main(["sandbox", "status", "--data-dir", data]) == 1
        assert main(["sandbox", "start", "--data-dir", data]) == 0
        assert "bac à sable en marche : http://127.0.0.1:" in capsys.readouterr().out
        assert main(["sandbox", "status", "--data-dir", data]) == 0
        monkeypatch.setenv("TOIPKIT_HOME", str(tmp_path))
        from toipkit.xivo import connect, create_user_with_line

        with connect(None, data_dir=data) as client:
            create_user_with_line(client, "Geralt", "Deriv", "101")
        capsys.readouterr()
        assert main(["sandbox", "directory", "--data-dir", data]) == 0
        assert "101" in capsys.readouterr().out
        assert main(["sandbox", "log", "--data-dir", data]) == 0
        assert "/1.1/users" in capsys.readouterr().out  # the user created just above
        assert main(["sandbox", "reset", "--data-dir", data, "--user-range", "1000-1999"]) == 0
        with connect(None, data_dir=data) as client:
            assert client.users.list().total == 0
            assert create_user_with_line(client, "Triss", "Merigold", "1003")
        assert main(["sandbox", "reset", "--data-dir", data, "--user-range", "9-1"]) == 1
        assert "DÉBUT-FIN attendu" in capsys.readouterr().err
    finally:
        assert main(["sandbox", "stop", "--data-dir", data]) == 0
    assert "bac à sable arrêté" in capsys.readouterr().out


def test_users_list_on_the_default_sandbox(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TOIPKIT_HOME", str(tmp_path))
    try:
        from toipkit.xivo import connect, create_user_with_line

        with connect() as client:
            create_user_with_line(client, "Yennefer", "Vengerberg", "102")
        capsys.readouterr()
        assert main(["xivo", "users", "list"]) == 0
        out = capsys.readouterr().out
        assert "Yennefer" in out and "fr_FR" in out
    finally:
        main(["sandbox", "stop"])


def test_register_check_command_without_answer(capsys, monkeypatch):
    monkeypatch.setenv("XIVO_SIP_PASSWORD", "not-shown-anywhere")
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        code = main(["xivo", "register-check", "127.0.0.1", "abc", "--port", str(port),
                     "--timeout", "0.5"])
    out = capsys.readouterr().out
    assert code == 1 and "Aucune réponse SIP" in out and "not-shown-anywhere" not in out
