"""The package ships schemas/src/main/avro itself, not a copy kept by hand."""

import filecmp
import os
import shutil
import subprocess
import sys

import pytest

import vqrae_schemas
from vqrae_schemas._schemas import schema_dir

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAVA_SCHEMAS = os.path.join(PROJECT, "..", "src", "main", "avro")
RELEASED = os.path.join(PROJECT, "..", "released")


def _avsc(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(".avsc"))


def test_source_tree_reads_the_java_folder():
    if not os.path.isdir(JAVA_SCHEMAS):
        pytest.skip("not running from the source tree")
    assert os.path.samefile(str(schema_dir()), JAVA_SCHEMAS)


def test_installed_package_contains_the_schemas(tmp_path):
    if not os.path.isdir(JAVA_SCHEMAS):
        pytest.skip("not running from the source tree")
    # Build from a copy so the test leaves no build/ or *.egg-info in the source tree; the copy keeps
    # vqrae_schemas/avro as a symlink to the real folder, as a checkout has it.
    src = tmp_path / "src"
    shutil.copytree(PROJECT, src, symlinks=True, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    for link, folder in (("avro", JAVA_SCHEMAS), ("released", RELEASED)):
        os.remove(src / "vqrae_schemas" / link)
        os.symlink(os.path.realpath(folder), src / "vqrae_schemas" / link)
    target = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
                             "--no-index", "--quiet", "--target", str(target), str(src)],
                            capture_output=True, text=True)
    if result.returncode != 0 and "No module named pip" in result.stderr:
        pytest.skip("pip is not available")
    assert result.returncode == 0, result.stderr
    installed = target / "vqrae_schemas" / "avro"
    assert not os.path.islink(installed), "the wheel must hold the files, not a link"
    assert _avsc(installed) == _avsc(JAVA_SCHEMAS)
    match, mismatch, errors = filecmp.cmpfiles(installed, JAVA_SCHEMAS, _avsc(JAVA_SCHEMAS), shallow=False)
    assert not mismatch and not errors
    released = target / "vqrae_schemas" / "released"
    assert not os.path.islink(released), "the wheel must hold the released versions, not a link"
    names = sorted(os.listdir(RELEASED))
    assert sorted(os.listdir(released)) == names
    for name in names:
        assert _avsc(released / name) == _avsc(os.path.join(RELEASED, name))
        match, mismatch, errors = filecmp.cmpfiles(released / name, os.path.join(RELEASED, name),
                                                   _avsc(os.path.join(RELEASED, name)), shallow=False)
        assert not mismatch and not errors
    probe = subprocess.run([sys.executable, "-c", "import vqrae_schemas, json; "
                            "print(vqrae_schemas.__file__); print(json.dumps(vqrae_schemas.fingerprints())); "
                            "print(json.dumps(vqrae_schemas.released_fingerprints()))"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(target)},
                           cwd=str(tmp_path))
    assert probe.returncode == 0, probe.stderr
    path, fps, released_fps = probe.stdout.splitlines()
    assert path.startswith(str(target))
    assert fps == __import__("json").dumps(vqrae_schemas.fingerprints())
    assert released_fps == __import__("json").dumps(vqrae_schemas.released_fingerprints())
