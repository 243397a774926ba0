"""Settings, read from the environment in one place."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value, default=False):
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def from_environment(instance_path):
    """The default configuration, overridable by TRACEFLOW_* / DATABASE_URL variables."""
    env = os.environ
    database_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'traceflow.sqlite'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        "SECRET_KEY": env.get("TRACEFLOW_SECRET_KEY") or _instance_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PROCESSES_DIR": env.get("TRACEFLOW_PROCESSES_DIR", str(PROJECT_ROOT / "processes")),
        "RULES_DIR": env.get("TRACEFLOW_RULES_DIR", str(PROJECT_ROOT / "rules")),
        "FORMS_DIR": env.get("TRACEFLOW_FORMS_DIR", str(PROJECT_ROOT / "forms")),
        "BABEL_DEFAULT_LOCALE": env.get("TRACEFLOW_DEFAULT_LOCALE", "zh_CN"),
        "BABEL_DEFAULT_TIMEZONE": env.get("TRACEFLOW_TIMEZONE", "Asia/Shanghai"),
        "API_TOKEN_HOURS": int(env.get("TRACEFLOW_API_TOKEN_HOURS", "12")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("TRACEFLOW_SECURE_COOKIES"), default=True),
        "WTF_CSRF_TIME_LIMIT": None,
        "PASSWORD_MIN_LENGTH": int(env.get("TRACEFLOW_PASSWORD_MIN_LENGTH", "10")),
        # zxcvbn's strength estimate, 0 (guessed at once) to 4 (very unguessable): at least this score.
        "PASSWORD_MIN_SCORE": int(env.get("TRACEFLOW_PASSWORD_MIN_SCORE", "3")),
        "PASSWORD_HISTORY": int(env.get("TRACEFLOW_PASSWORD_HISTORY", "5")),
        "PASSWORD_MAX_AGE_DAYS": int(env.get("TRACEFLOW_PASSWORD_MAX_AGE_DAYS", "180")),
        "LOCKOUT_THRESHOLD": int(env.get("TRACEFLOW_LOCKOUT_THRESHOLD", "5")),
        "DEPLOYMENT_APPROVAL": _bool(env.get("TRACEFLOW_DEPLOYMENT_APPROVAL"), default=True),
        "MAIL_SERVER": env.get("TRACEFLOW_MAIL_SERVER"),
        "MAIL_PORT": int(env.get("TRACEFLOW_MAIL_PORT", "25")),
        "MAIL_FROM": env.get("TRACEFLOW_MAIL_FROM", "traceflow@localhost"),
        "SESSION_IDLE_MINUTES": int(env.get("TRACEFLOW_SESSION_IDLE_MINUTES", "15")),
        "SESSION_MAX_HOURS": int(env.get("TRACEFLOW_SESSION_MAX_HOURS", "12")),
        "METRICS_TOKEN": env.get("TRACEFLOW_METRICS_TOKEN") or None,
        # Attachments: the local file store's folder (content-addressed by SHA-256) and the size limit.
        "FILE_STORE_DIR": env.get("TRACEFLOW_FILE_STORE_DIR") or str(Path(instance_path) / "files"),
        # The role told when someone's training on a controlled document is overdue.
        "TRAINING_ESCALATION_ROLE": env.get("TRACEFLOW_TRAINING_ESCALATION_ROLE", "qa_manager"),
        "ATTACHMENT_MAX_BYTES": int(float(env.get("TRACEFLOW_ATTACHMENT_MAX_MB", "25")) * 1024 * 1024),
    }


def engine_options(database_url, env=None):
    """Connection pool and statement timeout for PostgreSQL (each app process holds its own pool:
    size it so workers × (pool + overflow) stays below the server's max_connections)."""
    env = os.environ if env is None else env
    if not database_url.startswith("postgresql"):
        return {}
    timeout_ms = int(env.get("TRACEFLOW_DB_STATEMENT_TIMEOUT_MS", "30000"))
    return {
        "pool_size": int(env.get("TRACEFLOW_DB_POOL_SIZE", "5")),
        "max_overflow": int(env.get("TRACEFLOW_DB_MAX_OVERFLOW", "10")),
        "pool_timeout": int(env.get("TRACEFLOW_DB_POOL_TIMEOUT", "30")),
        "pool_pre_ping": True,
        "connect_args": {"options": f"-c statement_timeout={timeout_ms}"},
    }


def _instance_secret(instance_path):
    """A random secret kept in instance/ so sessions survive restarts without a configured key."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()
