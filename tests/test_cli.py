import csv
import io
import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command as alembic_command
from click.testing import CliRunner

from consent_server.cli import COMMANDS, main
from consent_server.domain import demo_site, printable
from consent_server.store import migrate
from consent_server.store import sites as store_sites
from consent_server.store.schema import api_tokens, consent_events, users
from tests.helpers import count_events, events
from tests.servers import cli, free_port


def record(consent, n):
    for _ in range(n):
        assert consent.post().status_code == 201


def test_init_twice_keeps_the_log_and_the_demo_site(runner, consent, engine):
    record(consent, 3)
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "Database ready." in result.output
    assert "Created the demo site" not in result.output
    assert count_events(engine) == 3
    assert runner.invoke(args=["verify-log"]).exit_code == 0


def test_commands_before_init_say_so(make_app, database_url):
    app = make_app()
    with app.extensions["consent_db"].begin() as conn:
        conn.execute(sa.text("DROP TABLE log_head"))
    result = app.test_cli_runner().invoke(args=["verify-log"])
    assert result.exit_code == 1
    assert "consent-server init" in result.output


def test_verify_log_passes_on_an_untouched_log(runner, consent):
    record(consent, 4)
    result = runner.invoke(args=["verify-log"])
    assert result.exit_code == 0
    assert "ok: 4 events" in result.output


def test_verify_log_names_the_first_bad_sequence_number(runner, consent, engine):
    record(consent, 4)
    with engine.begin() as conn:
        conn.execute(
            consent_events.update()
            .where(consent_events.c.seq == 2)
            .values(advertising=True)
        )
    result = runner.invoke(args=["verify-log"])
    assert result.exit_code == 1
    assert "sequence number 2" in result.output


def test_verify_log_names_a_deleted_row(runner, consent, engine):
    record(consent, 4)
    with engine.begin() as conn:
        conn.execute(consent_events.delete().where(consent_events.c.seq == 3))
    result = runner.invoke(args=["verify-log"])
    assert result.exit_code == 1
    assert "sequence number 3" in result.output


def test_export_ndjson_and_csv(runner, consent, app):
    record(consent, 2)
    with app.app_context():
        other = demo_site.demo_config()
        other["site"] = "other"
        from consent_server.store.engine import get_db

        store_sites.publish(get_db(), other, published_by="test")
    consent.post(body=consent.body(site="other"))

    ndjson = [json.loads(x) for x in runner.invoke(args=["export"]).output.splitlines()]
    assert len(ndjson) == 4  # three events and the end line
    first = ndjson[0]
    assert first["seq"] == 1 and first["site"] == "demo" and first["analytics"] is True
    assert first["path"] == "/products/tea-towel"
    end = ndjson[-1]["end"]
    assert (end["rows"], end["hash"], end["tree_size"]) == (3, ndjson[2]["hash"], 3)

    out = runner.invoke(args=["export", "--site", "other", "--format", "csv"]).output
    body, end = out.rstrip("\n").rsplit("\n", 1)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["site"] for r in rows] == ["other"]
    assert rows[0]["analytics"] == "true" and rows[0]["hash"]
    assert end.startswith(f"#end rows=1 hash={rows[0]['hash']} tree_size=3 root=")


def test_prune_reports_and_keeps_the_chain(runner, consent):
    record(consent, 2)
    result = runner.invoke(args=["prune", "--older-than", "30"])
    assert result.exit_code == 0
    assert "Removed 0 events" in result.output
    assert runner.invoke(args=["prune", "--older-than", "-1"]).exit_code == 2
    assert runner.invoke(args=["verify-log"]).exit_code == 0
    # 0 days: everything recorded before now goes, and the chain still holds.
    result = runner.invoke(args=["prune", "--older-than", "0"])
    assert result.output == "Removed 2 events older than 0 days.\n"
    assert runner.invoke(args=["verify-log"]).exit_code == 0
    record(consent, 1)
    assert runner.invoke(args=["verify-log"]).output.startswith("ok: 1 events")


def test_create_user_hashes_the_password(runner, engine):
    result = runner.invoke(
        args=[
            "create-user",
            "Editor@Shop.example",
            "--role",
            "editor",
            "--password",
            "a long passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        row = conn.execute(sa.select(users)).one()
    assert (row.email, row.role) == ("editor@shop.example", "editor")
    assert "a long passphrase" not in row.password_hash

    again = runner.invoke(
        args=[
            "create-user",
            "editor@shop.example",
            "--role",
            "editor",
            "--password",
            "a long passphrase",
        ]
    )
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(
        args=["create-user", "x@shop.example", "--role", "admin", "--password", "short"]
    )
    assert short.exit_code == 1 and "at least 12" in short.output


def test_create_user_prompts_for_the_password(runner, engine):
    result = runner.invoke(
        args=["create-user", "audit@shop.example", "--role", "auditor"],
        input="correct horse battery\ncorrect horse battery\n",
    )
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        assert conn.execute(sa.select(users.c.role)).scalar() == "auditor"


def test_create_token_prints_it_once_and_stores_a_hash(runner, engine):
    result = runner.invoke(args=["create-token", "auditor laptop", "--scope", "audit"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert token.startswith("cst_") and len(token) > 40
    with engine.connect() as conn:
        stored = conn.execute(sa.select(api_tokens)).one()
    assert stored.scope == "audit" and token not in stored.token_hash
    assert runner.invoke(args=["create-token", "x", "--scope", "admin"]).exit_code == 2


def test_sites_export_import_round_trip(runner, tmp_path, client):
    exported = json.loads(runner.invoke(args=["sites", "export", "demo"]).output)
    assert exported["revision"] == 1
    exported["cookie_days"] = 30
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(exported))

    result = runner.invoke(args=["sites", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "revision 2 (consent revision 1)" in result.output
    assert client.get("/v1/sites/demo/config").get_json()["cookie_days"] == 30

    result = runner.invoke(args=["sites", "import", str(path), "--ask-again"])
    assert "revision 3 (consent revision 2)" in result.output


def test_sites_import_refuses_an_invalid_document_and_changes_nothing(
    runner, tmp_path, client
):
    doc = demo_site.demo_config()
    doc["cookie_days"] = 400
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    result = runner.invoke(args=["sites", "import", str(path)])
    assert result.exit_code == 1
    assert "cookie_days" in result.output and "nothing changed" in result.output
    assert client.get("/v1/sites/demo/config").get_json()["revision"] == 1

    path.write_text("{not json")
    assert runner.invoke(args=["sites", "import", str(path)]).exit_code == 1


def test_new_site_from_import_accepts_consent(runner, tmp_path, consent, engine):
    doc = demo_site.demo_config()
    doc.update(site="shop", origins=["https://shop.example"])
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(doc))
    assert runner.invoke(args=["sites", "import", str(path)]).exit_code == 0
    response = consent.post(
        body=consent.body(site="shop", url="https://shop.example/"),
        origin="https://shop.example",
    )
    assert response.status_code == 201
    assert events(engine)[0]["site"] == "shop"


def test_init_upgrades_an_older_schema_and_keeps_its_data(runner, consent, engine):
    record(consent, 2)
    # A database from before Alembic, revocation and the site/seq index: what
    # later revisions added taken off again first (the one that added
    # `continues` refuses to go back: that column is hashed, so it goes by hand;
    # so does the Merkle tree's, which checkpoints depend on).
    with engine.begin() as conn:
        for statement in (
            "DROP TABLE log_cosignatures",
            "DROP TABLE site_scans",
            "ALTER TABLE api_tokens DROP COLUMN site",
            "ALTER TABLE api_tokens DROP COLUMN expires_at",
            "DROP TABLE tree_nodes",
            "DROP TABLE log_checkpoints",
            "DROP TABLE log_erasures",
            "DROP INDEX ix_consent_events_leaf_index",
            "DROP INDEX ix_consent_events_consent_id_seq",
            "ALTER TABLE consent_events DROP COLUMN leaf_index",
            "ALTER TABLE consent_events DROP COLUMN scan",
            "ALTER TABLE consent_events DROP COLUMN config_hash",
            "ALTER TABLE log_head DROP COLUMN tree_size",
            "ALTER TABLE log_head DROP COLUMN tree_edge",
            "ALTER TABLE log_prunes DROP COLUMN through_leaf",
        ):
            conn.execute(sa.text(statement))
        alembic_command.stamp(migrate.alembic_config(conn), "7d3f9a2c51e8")
        alembic_command.downgrade(migrate.alembic_config(conn), "15db1786dc54")
        conn.execute(sa.text("DROP TABLE alembic_version"))
        conn.execute(sa.text("DROP INDEX ix_consent_events_site_seq"))
        conn.execute(sa.text("ALTER TABLE api_tokens DROP COLUMN revoked_at"))
        conn.execute(sa.text("ALTER TABLE consent_events DROP COLUMN continues"))
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    inspector = sa.inspect(engine)
    columns = {c["name"] for c in inspector.get_columns("api_tokens")}
    assert {"revoked_at", "site", "expires_at"} <= columns
    assert "ix_consent_events_site_seq" in {
        i["name"] for i in inspector.get_indexes("consent_events")
    }
    assert count_events(engine) == 2
    # The events are back in the tree, in log order.
    assert [r["leaf_index"] for r in events(engine)] == [0, 1]
    assert (
        runner.invoke(args=["create-token", "after", "--scope", "audit"]).exit_code == 0
    )
    assert runner.invoke(args=["verify-log"]).exit_code == 0


def test_export_filters_like_the_audit_api(runner, consent, engine):
    record(consent, 2)
    consent.post(
        method="reject_all",
        choices={"preferences": False, "analytics": False, "advertising": False},
    )
    rows = events(engine)

    def seqs(*args):
        result = runner.invoke(args=["export", *args])
        assert result.exit_code == 0, result.output
        *lines, end = (json.loads(line) for line in result.output.splitlines())
        assert end["end"]["rows"] == len(lines)
        return [line["seq"] for line in lines]

    assert seqs("--method", "reject_all") == [3]
    assert seqs("--category", "analytics") == [1, 2]
    assert seqs("--consent-id", rows[1]["consent_id"]) == [2]
    since = rows[1]["recorded_at"].replace(tzinfo=None).isoformat()
    assert seqs("--until", "2000-01-01") == []
    assert seqs("--since", since) == [2, 3]


def test_version_is_ours():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"consent-server {metadata.version('consent-server')}\n"


def test_help_shows_our_commands_only():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:")[1].split()
    for command in COMMANDS:
        assert command.name in listed
    # Nothing of Flask's own command line or of its extensions.
    for theirs in ("--app", "--env-file", "--debug", "limiter", "routes", "shell"):
        assert theirs not in result.output


def test_python_m_and_the_installed_command_say_the_same():
    script = shutil.which("consent-server", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the consent-server command is not installed beside this Python")
    for args in (["--version"], ["--help"], ["sites", "--help"]):
        runs = [
            subprocess.run(cmd + args, capture_output=True, text=True, timeout=60)
            for cmd in ([sys.executable, "-m", "consent_server"], [script])
        ]
        assert runs[0].returncode == runs[1].returncode == 0
        assert runs[0].stdout == runs[1].stdout


@pytest.mark.parametrize(
    ("url", "message"),
    (
        ("nonsense", "cannot open the database nonsense: not a database URL"),
        (
            "postgres://consent:s3cret@127.0.0.1/consent",
            "cannot open the database postgres://consent:***@127.0.0.1/consent:"
            " unknown database driver 'postgres'",
        ),
        ("mysql://consent:s3cret@db/consent", "unknown database driver 'mysql'"),
        ("sqlite:////no/such/folder/c.sqlite", "unable to open database file"),
        (
            f"postgresql://consent:s3cret@127.0.0.1:{free_port()}/consent",
            "Connection refused",
        ),
    ),
)
def test_a_database_that_cannot_be_opened_is_one_line(url, message):
    result = CliRunner().invoke(main, ["verify-log"], env={"CONSENT_DATABASE_URL": url})
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("Error: cannot open the database ")
    assert message in line
    assert "s3cret" not in line


@pytest.mark.parametrize(
    ("env", "line"),
    (
        ({"CONSENT_DATABASE_URL": "123"}, "Error: CONSENT_DATABASE_URL: 123 is not"),
        ({"CONSENT_PROXY_COUNT": "abc"}, "Error: CONSENT_PROXY_COUNT: must be"),
        ({"CONSENT_RATELIMIT_CONSENT": "bogus"}, "Error: CONSENT_RATELIMIT_CONSENT:"),
    ),
)
def test_a_bad_setting_is_one_line_on_the_command_line(env, line, tmp_path):
    result = cli(["verify-log"], {**env, "CONSENT_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip() == result.stderr.strip().splitlines()[0]
    assert result.stderr.startswith(line), result.stderr


def test_prune_refuses_an_age_before_the_calendar(runner):
    result = runner.invoke(args=["prune", "--older-than", "99999999999"])
    assert result.exit_code == 2 and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    (
        ('{"site": "demo", "site": "other"}', "site is given twice"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ),
)
def test_sites_import_refuses_unclear_json_in_one_line(
    runner, tmp_path, client, text, message
):
    path = tmp_path / "doc.json"
    path.write_text(text)
    result = runner.invoke(args=["sites", "import", str(path)])
    assert result.exit_code == 1
    assert message in result.output and len(result.output.splitlines()) == 1
    assert client.get("/v1/sites/demo/config").get_json()["revision"] == 1


def _live(engine):
    with engine.connect() as conn:
        return [
            (r.id, r.name)
            for r in conn.execute(
                sa.select(api_tokens)
                .where(api_tokens.c.revoked_at.is_(None))
                .order_by(api_tokens.c.id)
            )
        ]


def _tokens(runner, *names):
    for name in names:
        result = runner.invoke(args=["create-token", name, "--scope", "audit"])
        assert result.exit_code == 0, result.output


def test_revoke_token_by_name_never_takes_the_token_with_that_id(runner, engine):
    _tokens(runner, "laptop", "desk", "3")  # ids 1, 2, 3
    result = runner.invoke(args=["revoke-token", "2"])
    # "2" is a name here: no token is named "2", and token 2 stays live.
    assert result.exit_code == 1
    assert result.output == "Error: no live token named '2'\n"
    assert _live(engine) == [(1, "laptop"), (2, "desk"), (3, "3")]
    result = runner.invoke(args=["revoke-token", "3"])
    assert result.output == "Revoked 1 token named 3 (id 3).\n"
    assert _live(engine) == [(1, "laptop"), (2, "desk")]


def test_revoke_token_by_id_never_takes_a_token_with_that_name(runner, engine):
    _tokens(runner, "1", "desk")  # ids 1, 2
    result = runner.invoke(args=["revoke-token", "--id", "2"])
    assert result.exit_code == 0, result.output
    assert result.output == "Revoked token 2.\n"
    assert _live(engine) == [(1, "1")]
    again = runner.invoke(args=["revoke-token", "--id", "2"])
    assert again.exit_code == 1
    assert again.output == "Error: no live token with id 2\n"


def test_revoke_token_by_name_revokes_every_live_token_of_that_name(runner, engine):
    _tokens(runner, "ci", "desk", "ci")
    result = runner.invoke(args=["revoke-token", "ci"])
    assert result.output == "Revoked 2 tokens named ci (ids 1, 3).\n"
    assert _live(engine) == [(2, "desk")]


@pytest.mark.parametrize(
    "args", ([], ["desk", "--id", "1"], ["--id", "0"], ["--id", "x"])
)
def test_revoke_token_needs_a_name_or_an_id_not_both(runner, engine, args):
    _tokens(runner, "desk")
    result = runner.invoke(args=["revoke-token", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert _live(engine) == [(1, "desk")]
    if len(args) != 2:
        assert result.output.splitlines()[-1] == (
            "Error: give a token NAME or --id N, not both"
        )


def test_revoke_token_help_says_what_it_takes(runner):
    result = runner.invoke(args=["revoke-token", "--help"])
    assert "only as a name" in result.output
    assert "--id INTEGER RANGE" in result.output


HOSTILE = "a\x1b[31mb\u202ec"
SHOWN = "a\\x1b[31mb\\u202ec"


def _no_controls(text):
    # Nothing a terminal would obey: C0 but tab and newline, DEL, C1, bidi.
    return not any(
        (ord(c) < 0x20 and c not in "\t\n")
        or 0x7F <= ord(c) <= 0x9F
        or 0x202A <= ord(c) <= 0x202E
        or 0x2066 <= ord(c) <= 0x2069
        for c in text
    )


def test_token_names_reach_the_terminal_escaped(runner, engine):
    _tokens(runner, HOSTILE)
    listing = runner.invoke(args=["list-tokens"]).output
    assert _no_controls(listing)
    assert listing.startswith(f"1\t{SHOWN}\taudit\tcreated ")
    result = runner.invoke(args=["revoke-token", HOSTILE])
    assert result.output == f"Revoked 1 token named {SHOWN} (id 1).\n"
    again = runner.invoke(args=["revoke-token", HOSTILE])
    assert again.exit_code == 1 and _no_controls(again.output)
    assert again.output == "Error: no live token named 'a\\x1b[31mb\\u202ec'\n"


def test_user_emails_reach_the_terminal_escaped(runner):
    args = ["create-user", "x" + HOSTILE + "@shop.example", "--role", "editor"]
    args += ["--password", "a long passphrase"]
    created = runner.invoke(args=args)
    assert created.exit_code == 0, created.output
    assert created.output == f"Created editor x{SHOWN}@shop.example.\n"
    taken = runner.invoke(args=args)
    assert taken.exit_code == 1
    assert taken.output == f"Error: a user x{SHOWN}@shop.example already exists\n"


def test_sites_export_escapes_control_characters_and_stays_the_document(
    runner, app, tmp_path
):
    doc = demo_site.demo_config()
    title = "Cookies \x9b31m\u202eon \u2066this\u2069 shop"
    doc["languages"]["en"]["title"] = title
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    imported = runner.invoke(args=["sites", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    out = runner.invoke(args=["sites", "export", "demo"]).output
    assert _no_controls(out)
    assert '"title": "Cookies \\u009b31m\\u202eon \\u2066this\\u2069 shop"' in out
    assert json.loads(out)["languages"]["en"]["title"] == title


@pytest.mark.parametrize(
    ("text", "shown"),
    (
        ("plain Ünïcode, tabs\tand 'quotes'", "plain Ünïcode, tabs\\x09and 'quotes'"),
        ("\x00\x1b\x7f", "\\x00\\x1b\\x7f"),
        ("\x85\x9b", "\\x85\\x9b"),
        (
            "\u202a\u202e\u2066\u2069\u200f\u061c",
            "\\u202a\\u202e\\u2066\\u2069\\u200f\\u061c",
        ),
        ("line\u2028break\nnext", "line\\u2028break\\x0anext"),
    ),
)
def test_printable_escapes_what_a_terminal_would_obey(text, shown):
    assert printable.printable(text) == shown


def test_a_scan_token_for_one_site_that_expires(runner, engine):
    made = runner.invoke(
        args=[
            "create-token",
            "ci",
            "--scope",
            "scan",
            "--site",
            "demo",
            "--minutes",
            "30",
        ]
    )
    assert made.exit_code == 0, made.output
    assert made.output.startswith("cst_")
    [line] = runner.invoke(args=["list-tokens"]).output.splitlines()
    fields = line.split("\t")
    assert fields[:3] == ["1", "ci", "scan"]
    assert fields[4].startswith("live until ") and fields[4].endswith(" UTC")
    assert fields[5] == "site demo"


@pytest.mark.parametrize(
    ("args", "said"),
    (
        (
            ["--scope", "audit", "--site", "demo"],
            "Error: only a token of scope scan is bound to a site\n",
        ),
        (
            ["--scope", "scan", "--site", "No Site"],
            "Error: No Site is not a site id\n",
        ),
    ),
)
def test_a_token_that_cannot_be_made_is_one_line(runner, engine, args, said):
    made = runner.invoke(args=["create-token", "bad", *args])
    assert made.exit_code == 1
    assert made.output == said
    assert runner.invoke(args=["list-tokens"]).output == ""


def test_minutes_out_of_range_is_a_usage_error(runner, engine):
    made = runner.invoke(
        args=["create-token", "bad", "--scope", "scan", "--minutes", "0"]
    )
    assert made.exit_code == 2
    assert "--minutes" in made.output
