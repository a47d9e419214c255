import os
import socket
import stat

import pytest
from click.testing import CliRunner

from consent_server.cli import main
from consent_server.domain import note
from consent_server.domain.note import Checkpoint, Signer, Verifier
from tests.servers import cli


def keygen(*args, env=None):
    return CliRunner().invoke(main, ["keygen", *args], env=env)


def test_keygen_writes_a_private_key_file_and_prints_the_verifier_key(tmp_path):
    key_file = tmp_path / "log.key"
    result = keygen("--name", "consent.example.com/log", "--out", str(key_file))
    assert result.exit_code == 0, result.output
    published = result.stdout.strip()
    assert published.startswith("consent.example.com/log+")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # What it wrote signs a checkpoint that the printed key alone verifies.
    signer = Signer.from_key(key_file.read_text().strip())
    checkpoint = Checkpoint("consent.example.com/log", 7, bytes(32))
    opened = note.open_checkpoint(checkpoint.sign(signer), Verifier.from_key(published))
    assert opened == checkpoint
    assert list(tmp_path.iterdir()) == [key_file]


def test_keygen_never_overwrites_a_key_file(tmp_path):
    key_file = tmp_path / "log.key"
    key_file.write_text("the key in use\n")
    result = keygen("--name", "log", "--out", str(key_file))
    assert result.exit_code == 1
    assert result.output == f"Error: {key_file} exists: not overwritten\n"
    assert key_file.read_text() == "the key in use\n"
    assert list(tmp_path.iterdir()) == [key_file]


def test_keygen_says_when_the_folder_is_missing(tmp_path):
    result = keygen("--name", "log", "--out", str(tmp_path / "no" / "log.key"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot write ")
    assert len(result.output.splitlines()) == 1


def test_keygen_without_a_file_prints_both_keys():
    result = keygen("--name", "log.example/a")
    assert result.exit_code == 0
    secret, published = result.stdout.splitlines()
    signer = Signer.from_key(secret)
    assert signer.verifier.key == published
    signed = note.sign("hello\n", [signer])
    assert note.open_note(signed, [Verifier.from_key(published)]).text == "hello\n"


def test_keygen_names_the_key_after_the_logs_origin():
    result = keygen(env={"CONSENT_LOG_ORIGIN": "shop.example/consent"})
    assert result.stdout.splitlines()[1].startswith("shop.example/consent+")
    result = keygen(env={"CONSENT_LOG_ORIGIN": ""})
    expected = f"{socket.getfqdn()}/consent-log+"
    assert result.stdout.splitlines()[1].startswith(expected)


def test_keygen_refuses_a_name_with_a_space_or_plus():
    for name in ("my log", "a+b", ""):
        result = keygen("--name", name)
        assert result.exit_code == 1
        assert result.output.startswith("Error: a key name has no spaces and no '+'")


def test_keygen_needs_no_database(tmp_path):
    key_file = tmp_path / "log.key"
    env = {"CONSENT_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = cli(["keygen", "--name", "log", "--out", str(key_file)], env)
    assert result.returncode == 0, result.stderr
    assert Verifier.from_key(result.stdout.strip()).name == "log"
    assert os.path.exists(key_file)


def test_without_a_log_key_commands_sign_nothing_and_make_no_key(tmp_path):
    # Outside demo mode: a checkpoint signed with a key nobody published
    # would prove nothing, and a key file made beside the database would
    # let whoever writes the database sign.
    instance = tmp_path / "instance"
    env = {
        "CONSENT_INSTANCE_PATH": str(instance),
        "CONSENT_DATABASE_URL": f"sqlite:///{tmp_path / 'consent.sqlite'}",
        "CONSENT_LOG_KEY": "",
        "CONSENT_DEMO": "",
    }
    assert cli(["init"], env).returncode == 0
    signed = cli(["checkpoint"], env)
    assert signed.returncode == 1 and signed.stdout == ""
    [line] = signed.stderr.strip().splitlines()
    assert line.startswith("Error: CONSENT_LOG_KEY is not set")
    assert "consent-server keygen --out FILE" in line
    # Checking the log needs no key; checking it against a checkpoint needs
    # the log's verifier key, which is not known here.
    checked = cli(["verify-log"], env)
    assert checked.returncode == 0, checked.stderr
    saved = tmp_path / "saved.txt"
    saved.write_text("x")
    against = cli(["verify-log", "--against", str(saved)], env)
    assert against.returncode == 1
    assert "give --key VERIFIER_KEY" in against.stderr
    assert not (instance / "log-signing.key").exists()
    # With the key set, the same command signs.
    key = Signer.generate("shop.example/log")
    signed = cli(["checkpoint"], {**env, "CONSENT_LOG_KEY": key.key})
    assert signed.returncode == 0, signed.stderr
    assert note.open_checkpoint(signed.stdout, key.verifier).size == 0


def test_keygen_makes_a_witness_key():
    from consent_server.domain.cosignature import Witness, WitnessSigner

    made = keygen("--witness", "--name", "auditor.example/witness")
    assert made.exit_code == 0, made.output
    secret, public = made.stdout.splitlines()[:2]
    assert WitnessSigner.from_key(secret).witness == Witness.from_key(public)
    # Not a key the log could sign its checkpoints with, nor the reverse.
    with pytest.raises(note.BadKey):
        Signer.from_key(secret)
    log_key = keygen("--name", "shop.example/log").stdout.splitlines()[1]
    with pytest.raises(note.BadKey, match="a witness's is 4"):
        Witness.from_key(log_key)
    nameless = keygen("--witness")
    assert nameless.exit_code == 1
    assert "--witness needs the witness's --name" in nameless.output
