"""The engine must import without textual or rich (architecture rule)."""
import subprocess
import sys


def test_core_imports_without_textual_or_rich():
    code = (
        "import sys, pkgutil, importlib, tui.core\n"
        "for m in pkgutil.walk_packages(tui.core.__path__, 'tui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"tui.core pulled in: {out.stdout.strip()}"


def test_rewrite_imports_no_cache():
    """trivial-rewrite and the Postfix library functions run without the
    engine's memory (tui.core.cache) or the table families loaded: they ask
    the tables they are given (the import-graph check is in test_layers.py)."""
    code = (
        "import sys, pkgutil, importlib, tui.core.rewrite, tui.core.postfix\n"
        "for pkg in (tui.core.rewrite, tui.core.postfix):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "print(','.join(sorted(n for n in sys.modules if n == 'tui.core.cache'\n"
        "                      or n.startswith(('tui.core.tables', 'tui.core.smtpd')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"tui.core.rewrite / tui.core.postfix pulled in: {out.stdout.strip()}"
