import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_engine_imports_without_django_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    code = (
        "import sys\n"
        "import segments.engine as e\n"
        "from segments.engine import (AnalysisConfig, AnalysisResult, EngineError, FittedPipeline, analyze,\n"
        "    predict_segment, load_model, generate_synthetic, infer_roles, ENGINE_VERSION)\n"
        "assert 'django' not in sys.modules, 'engine imported django'\n"
        "print(ENGINE_VERSION)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(ROOT), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


def test_engine_import_does_not_load_heavy_ml_libraries():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    code = "import sys, segments.engine\nprint(sorted(m for m in ('textblob', 'nltk', 'sklearn.ensemble') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(ROOT), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
