"""Pilot tests of the configuration tree and the detail pane on the demo."""
from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import main_cf_line, plain, settle
from tui.app import make_app
from tui.widgets.tree_nodes import PAGE


def labels(node) -> list[str]:
    return [c.label.plain for c in node.children]


async def test_tree_sections_params_services_tables(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        tree = app.tree
        top = [c.label.plain.split("  ")[0] for c in tree.root.children]
        assert top == ["main.cf", "master.cf", "lookup tables", "PostfixAdmin", "address classes"]
        # explicit parameters, in file order, before the "all parameters" node
        main = tree.sections["main.cf"]
        names = [c.data.key for c in main.children if c.data.kind == "param"]
        assert names[0] == "myhostname" and "smtpd_recipient_restrictions" in names
        assert "relay_domains_reject_code" not in names  # a default: one key away
        # services with their overrides
        svc = {c.data.key: c for c in tree.sections["master.cf"].children}
        assert {"smtp", "submission", "127.0.0.1:10025", "mailman", "dovecot"} <= set(svc)
        assert any("smtpd_recipient_restrictions=permit_sasl_authenticated,reject" in lab
                   for lab in labels(svc["submission"]))
        # tables with their state
        tables = {c.data.key: c.label.plain for c in tree.sections["tables"].children}
        access = f"texthash:{demo_dir}/access"
        assert access in tables and tables[access].endswith("ok")
        assert all(not lab.endswith(("unreadable", "error", "checking")) for lab in tables.values())


async def test_selecting_a_parameter_shows_value_source_and_references(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        app.goto_param("mydestination")
        await pilot.pause()
        text = plain(app.detail.body.content)
        assert f"main.cf:{main_cf_line(demo_dir, 'mydestination')}" in text
        flat = " ".join(text.split())  # a long list is shown one item per line
        assert "raw $myhostname, localhost.$mydomain, localhost" in flat                # raw
        assert "mail.example.org, localhost.example.org, localhost" in flat             # expanded
        assert "$myhostname" in text and "$mydomain" in text                  # refers to
        assert "local transport" in text                                      # our description
        # a default, reached through "all parameters", says so
        app.goto_param("relay_domains_reject_code")
        await pilot.pause()
        text = plain(app.detail.body.content)
        assert "554" in text and "default" in text


async def test_all_parameters_one_key_away(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        node = app.tree.allparams_node
        assert node.is_expanded
        keys = [c.data.key for c in node.children]
        assert len(keys) > 900 and "relay_domains_reject_code" in keys


async def test_override_detail_names_its_service_and_line(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        app.goto_param("smtpd_recipient_restrictions", "submission")
        await pilot.pause()
        text = plain(app.detail.body.content)
        lines = (demo_dir / "master.cf").read_text().splitlines()
        line = next(i for i, l in enumerate(lines, 1) if "-o smtpd_recipient_restrictions=" in l)
        assert f"master.cf:{line} (-o on submission)" in text
        assert "permit_sasl_authenticated,reject" in text


async def test_filter_narrows_the_tree_and_escape_clears_it(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"relay_domains")
        await pilot.pause()
        params = [c.data.key for c in app.tree.sections["main.cf"].children if c.data.kind == "param"]
        assert params == ["relay_domains"]
        tables = list(app.tree.table_nodes)
        assert tables and all("relay_domains" in t for t in tables)
        await pilot.press("enter")          # keep the filter, back to the tree
        assert app.tree.has_focus
        await pilot.press("escape")
        await pilot.pause()
        params = [c.data.key for c in app.tree.sections["main.cf"].children if c.data.kind == "param"]
        assert len(params) > 30


async def test_postfixadmin_view_and_address_classes(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        pfa = app.tree.sections["pfa"]
        groups = {c.data.key: c for c in pfa.children}
        domains = labels(groups["domains"])
        assert any(l.startswith("partner.example.com") and "backup MX" in l for l in domains)
        assert any(l.startswith("old.example.net") and "inactive" in l for l in domains)
        assert any(l.startswith("@shop.example.net") for l in labels(groups["aliases"]))
        assert labels(groups["alias domains"]) == ["example.net → example.org"]
        classes = {c.data.key: c for c in app.tree.sections["classes"].children}
        vm = [c.data.key for c in classes["virtual mailbox"].children if c.data.kind == "class-item"]
        # asked through the configured sqlite table: active, non-backup domains only
        assert sorted(vm) == ["example.net", "example.org", "shop.example.net"]
        relay = [c.data.key for c in classes["relay"].children if c.data.kind == "class-item"]
        assert sorted(relay) == ["lists.example.org", "partner.example.com"]
        local = [c.data.key for c in classes["local"].children if c.data.kind == "class-item"]
        assert "mail.example.org" in local


async def test_big_map_is_paged_not_built_at_once(tmp_path: Path):
    big = tmp_path / "big_access"
    big.write_text("".join(f"user{i:04d}@example.org OK\n" for i in range(250)))
    (tmp_path / "main.cf").write_text(
        f"smtpd_recipient_restrictions = check_recipient_access texthash:{big},\n"
        "    reject_unauth_destination\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await settle(pilot)
        spec = f"texthash:{big}"
        app.goto_table(spec)
        await pilot.pause()
        node = app.tree.table_nodes[spec]
        await pilot.press("enter")
        assert await settle(pilot, lambda: any(c.data.kind == "entry" for c in node.children))
        entries = [c for c in node.children if c.data.kind == "entry"]
        assert len(entries) == PAGE
        assert node.children[-1].data.kind == "more"
        await pilot.press("m")
        assert await settle(pilot, lambda: sum(c.data.kind == "entry" for c in node.children) == 2 * PAGE)
        # the filter searches the open map's entries
        await pilot.press("slash")
        await pilot.press(*"user0241")
        assert await settle(pilot, lambda: app.tree.table_nodes.get(spec) is not None and
                            [c.data.key for c in app.tree.table_nodes[spec].children
                             if c.data.kind == "entry"] == ["user0241@example.org"])


async def test_missing_configuration_is_a_red_message_not_a_crash(tmp_path: Path):
    app = make_app(tmp_path / "does-not-exist")
    async with app.run_test(size=(100, 30)) as pilot:
        assert await settle(pilot)
        assert app.load_error and "main.cf" in app.load_error
        node = app.tree.root.children[0]
        assert "red" in str(node.label.style)
        await pilot.press("t")          # the trace pane says why it cannot run
        await pilot.press("ctrl+r")
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"


async def test_looking_a_key_up_in_a_table(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        spec = f"proxy:sqlite:{demo_dir}/sqlite_virtual_alias_maps.cf"
        app.goto_table(spec)
        await pilot.pause()
        lookup = app.detail.query_one("#lookup")
        assert lookup.display
        lookup.focus()
        await pilot.press(*"info@example.org", "enter")
        result = app.detail.query_one("#lookup-result")
        assert await settle(pilot, lambda: "→" in plain(result.content))
        text = plain(result.content)
        assert "alice@example.org,bob@example.org" in text
        assert "SELECT goto FROM alias" in text  # the query that answered
        await pilot.press("escape")
        assert app.tree.has_focus


async def test_a_big_postfixadmin_is_not_one_node_per_row(tmp_path: Path):
    import sqlite3

    from tui.demo import build_database

    db = tmp_path / "pfa.sqlite"
    build_database(db)
    con = sqlite3.connect(db)
    con.executemany("INSERT INTO mailbox (username, password, maildir, local_part, domain) "
                    "VALUES (?, 'x', ?, ?, 'example.org')",
                    [(f"u{i:04d}@example.org", f"example.org/u{i:04d}/", f"u{i:04d}") for i in range(300)])
    con.commit()
    con.close()
    cf = tmp_path / "sqlite_virtual_mailbox_maps.cf"
    cf.write_text(f"dbpath = {db}\nquery = SELECT maildir FROM mailbox WHERE username='%s' AND active = 1\n")
    (tmp_path / "main.cf").write_text(f"virtual_mailbox_maps = sqlite:{cf}\n"
                                      "virtual_mailbox_domains = example.org\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await settle(pilot)
        groups = {c.data.key: c for c in app.tree.sections["pfa"].children}
        mb = groups["mailboxes"]
        assert mb.label.plain.endswith("304")
        assert len(mb.children) == PAGE + 1 and "204 more" in mb.children[-1].label.plain
        await pilot.press("slash", *"u0299")
        await pilot.pause()
        groups = {c.data.key: c for c in app.tree.sections["pfa"].children}
        assert [c.label.plain for c in groups["mailboxes"].children] == ["u0299@example.org"]


async def test_a_huge_main_cf_is_paged_not_one_node_per_parameter(tmp_path: Path):
    n = 20000
    (tmp_path / "main.cf").write_text("".join(f"x_param_{i} = value {i}\n" for i in range(n)))
    (tmp_path / "master.cf").write_text("smtp inet n - y - - smtpd\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        tree = app.tree
        assert len(tree._tree_nodes) < 2000   # noqa: SLF001 -- textual is pinned
        # every unused-parameter warning is counted, not made a node
        assert len(tree.sections["warnings"].children) <= 101
        # a parameter beyond the first page is still one key away
        app.goto_param(f"x_param_{n - 1}")
        await pilot.pause()
        assert tree.cursor_node.data.key == f"x_param_{n - 1}"
        await pilot.press("slash", *f"x_param_{n - 1}", "enter")
        await pilot.pause()
        params = [c.data.key for c in tree.sections["main.cf"].children if c.data.kind == "param"]
        assert params == [f"x_param_{n - 1}"]


async def test_table_labels_stay_distinct_in_a_narrow_tree(demo_dir: Path):
    """Six proxy:sqlite tables: at 80x24 what the tree can show of each label
    still tells them apart (the file name comes first)."""
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        room = app.tree.size.width - 6  # guides and the expand arrow
        shown = [str(node.label)[:room] for node in app.tree.table_nodes.values()]
        assert len(shown) >= 6
        assert len(set(shown)) == len(shown), shown
