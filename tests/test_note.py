import base64

import pytest

from consent_server.domain import note
from consent_server.domain.note import (
    AmbiguousKey,
    BadKey,
    Checkpoint,
    InvalidSignature,
    MalformedNote,
    NoteError,
    Signer,
    UnverifiedNote,
    Verifier,
)

# The fixed keys, text and signatures of Go's golang.org/x/mod/sumdb/note
# (note_test.go): the verifiers transparency logs and witnesses run.
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = (
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
)
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
    "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ov"
    "TG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
PETER = note.Signature(
    "PeterNeumann", bytes.fromhex("c74f20a3"), PETER_SIG.split()[2].strip()
)
ENOCH = note.Signature(
    "EnochRoot", bytes.fromhex("af0cfe78"), ENOCH_SIG.split()[2].strip()
)

# The example of C2SP tlog-checkpoint (its key is not published).
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe"
    "4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def splice(message, at, insert):
    # Go's tests splice bytes; the em dash is three of them.
    data = message.encode()
    return (data[:at] + insert + data[at:]).decode()


def test_go_verifier_key():
    verifier = Verifier.from_key(PETER_VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_id == bytes.fromhex("c74f20a3")
    assert verifier.key == PETER_VKEY


def test_every_mangled_verifier_key_is_refused():
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(BadKey):
                    Verifier.from_key(PETER_VKEY[i:j])
    for i, c in enumerate(PETER_VKEY):
        with pytest.raises(BadKey):
            Verifier.from_key(PETER_VKEY[:i] + chr(ord(c) + 1) + PETER_VKEY[i + 1 :])
    # A key of the wrong length, and an unknown algorithm, each with the keyid
    # their bytes would have.
    with pytest.raises(BadKey, match="32 bytes"):
        Verifier.from_key(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    with pytest.raises(BadKey, match="algorithm"):
        Verifier.from_key(
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )


def test_go_signer_key_and_every_mangled_one_refused():
    signer = Signer.from_key(PETER_SKEY)
    assert signer.key == PETER_SKEY
    assert signer.verifier.key == PETER_VKEY
    for i in range(len(PETER_SKEY) + 1):
        for j in range(i + 1, len(PETER_SKEY) + 1):
            if (i, j) != (0, len(PETER_SKEY)):
                with pytest.raises(BadKey):
                    Signer.from_key(PETER_SKEY[i:j])
    for i, c in enumerate(PETER_SKEY):
        with pytest.raises(BadKey):
            Signer.from_key(PETER_SKEY[:i] + chr(ord(c) + 1) + PETER_SKEY[i + 1 :])


def test_signing_gives_the_go_note_byte_for_byte():
    # Ed25519 signatures are deterministic: the same key signs the same bytes.
    signed = note.sign(TEXT, [Signer.from_key(PETER_SKEY)])
    assert signed == TEXT + "\n" + PETER_SIG


@pytest.mark.parametrize(
    "text", ("abc", "", "two\nlines", "a tab\there\n", "a return\r\n")
)
def test_only_lines_ending_in_a_newline_are_signed(text):
    with pytest.raises(MalformedNote):
        note.sign(text, [Signer.from_key(PETER_SKEY)])


@pytest.mark.parametrize("name", ("", "a+b", "bad name", "tab\tname", "nbsp\xa0name"))
def test_key_names_have_no_spaces_and_no_plus(name):
    with pytest.raises(BadKey):
        Signer.generate(name)


def test_a_generated_key_signs_what_its_verifier_key_checks():
    signer = Signer.generate("EnochRoot")
    again = Signer.from_key(signer.key)
    verifier = Verifier.from_key(signer.verifier.key)
    signed = note.sign(TEXT, [again])
    assert note.open_note(signed, [verifier]).text == TEXT
    tampered = signed.replace("cryptography", "cryptographY")
    with pytest.raises(InvalidSignature):
        note.open_note(tampered, [verifier])


def test_open_verifies_known_keys_and_sets_the_others_aside():
    peter, enoch = Verifier.from_key(PETER_VKEY), Verifier.from_key(ENOCH_VKEY)
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG

    opened = note.open_note(both, [peter])
    assert opened.text == TEXT
    assert opened.signatures == (PETER,)
    assert opened.unverified == (ENOCH,)

    opened = note.open_note(both, [peter, enoch])
    assert opened.signatures == (PETER, ENOCH)
    assert opened.unverified == ()

    with pytest.raises(UnverifiedNote, match="no verifiable signatures") as caught:
        note.open_note(both, [])
    assert caught.value.note.unverified == (PETER, ENOCH)

    with pytest.raises(AmbiguousKey, match="EnochRoot\\+af0cfe78"):
        note.open_note(TEXT + "\n" + ENOCH_SIG, [enoch, peter, enoch])
    # A duplicated key nobody signed with is harmless.
    note.open_note(TEXT + "\n" + PETER_SIG, [enoch, peter, enoch])


def test_open_refuses_too_many_signatures():
    peter = Verifier.from_key(PETER_VKEY)
    for keys in ([peter], []):
        with pytest.raises(MalformedNote):
            note.open_note(TEXT + "\n" + PETER_SIG * 101, keys)


def test_open_refuses_a_bad_signature_by_a_known_key():
    peter = Verifier.from_key(PETER_VKEY)
    bad = TEXT + "\n" + splice(PETER_SIG, 60, b"ABCD")
    with pytest.raises(InvalidSignature, match="PeterNeumann\\+c74f20a3"):
        note.open_note(bad, [peter])


def test_open_drops_repeated_signatures():
    peter = Verifier.from_key(PETER_VKEY)
    enoch_abcd = splice(ENOCH_SIG, 60, b"ABCD")
    opened = note.open_note(
        TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd,
        [peter],
    )
    assert opened.signatures == (PETER,)
    assert opened.unverified == (
        ENOCH,
        note.Signature(ENOCH.name, ENOCH.key_id, enoch_abcd.split()[2]),
    )


@pytest.mark.parametrize(
    "message",
    (
        TEXT.encode(),
        (TEXT + "\n").encode(),
        (TEXT + "\n" + PETER_SIG[:-1]).encode(),
        b"\x01" + (TEXT + "\n" + PETER_SIG).encode(),
        b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
        (TEXT + "\n" + "— Bad Name " + PETER_SIG.split()[2]).encode(),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n").encode(),
        (TEXT + "\n" + PETER_SIG.replace("—", "-")).encode(),
        (TEXT + "\n" + "— PeterNeumann\n").encode(),
        (TEXT + "\n" + "— PeterNeumann AAAA\n").encode(),
    ),
)
def test_open_refuses_what_is_not_a_signed_note(message):
    peter = Verifier.from_key(PETER_VKEY)
    with pytest.raises(MalformedNote):
        note.open_note(message, [peter])
    if b"\xff" not in message:
        with pytest.raises(MalformedNote):
            note.open_note(message.decode(), [peter])


def test_the_spec_checkpoint_reads_and_its_unknown_signature_is_set_aside():
    with pytest.raises(UnverifiedNote) as caught:
        note.open_note(SPEC_CHECKPOINT, [Verifier.from_key(PETER_VKEY)])
    opened = caught.value.note
    assert [s.name for s in opened.unverified] == ["example.com/behind-the-sofa"]
    checkpoint = Checkpoint.parse(opened.text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode(
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    )
    assert checkpoint.extensions == ()
    assert checkpoint.text == opened.text


def test_a_checkpoint_signature_checks_with_the_verifier_key_alone():
    signer = Signer.generate("consent.example.com/log")
    published = signer.verifier.key
    checkpoint = Checkpoint("consent.example.com/log", 42, bytes(range(32)), ("x y",))
    signed = checkpoint.sign(signer)
    assert signed.startswith(
        "consent.example.com/log\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "x y\n\n— consent.example.com/log "
    )
    assert note.open_checkpoint(signed, Verifier.from_key(published)) == checkpoint
    # One byte changed anywhere in the text breaks it.
    for at in range(len(checkpoint.text)):
        data = bytearray(signed.encode())
        data[at] ^= 1
        with pytest.raises(NoteError):
            note.open_checkpoint(bytes(data), Verifier.from_key(published))
    # Another key of the same name does not verify it.
    other = Signer.generate("consent.example.com/log").verifier
    with pytest.raises(UnverifiedNote):
        note.open_checkpoint(signed, other)


def test_a_checkpoint_of_another_log_is_refused():
    signer = Signer.generate("consent.example.com/log")
    signed = Checkpoint("other.example/log", 1, bytes(32)).sign(signer)
    with pytest.raises(NoteError, match="other.example/log"):
        note.open_checkpoint(signed, signer.verifier)
    assert note.open_checkpoint(signed, signer.verifier, origin="other.example/log")


@pytest.mark.parametrize(
    "text",
    (
        "origin\n1\n",
        "\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n1 \nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n1\nAAAA\n",
        "origin\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "origin\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "origin\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
    ),
)
def test_what_is_not_a_checkpoint_is_refused(text):
    with pytest.raises(MalformedNote):
        Checkpoint.parse(text)


def test_the_empty_tree_has_a_checkpoint():
    assert Checkpoint.parse("log\n0\n" + base64.b64encode(bytes(32)).decode() + "\n")
