"""All settings in one place, read from the environment (prefix ``VACREC_``).

Every other module receives a :class:`Settings` instance instead of reading the
environment itself, so tests can build one with explicit values.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from functools import lru_cache
from pathlib import Path

from limits import RateLimitItem, parse_many
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from vacrec.domain import SkillVocabulary

ENV_PREFIX = "VACREC_"
RATE_LIMIT_OFF = "off"
SECRET_FIELDS = frozenset({"admin_token", "hh_token"})
MIN_RETRAIN_EVERY_S = 60.0
"""Retraining more often than this only burns CPU: it also waits for new feedback."""


def parse_rate_limit(text: str) -> list[RateLimitItem]:
    """``"60/minute;600/hour"`` → its limits; ``"off"`` → none. ValueError when unreadable."""
    if text.strip().lower() == RATE_LIMIT_OFF:
        return []
    return parse_many(text)


def split_proxies(text: str) -> list[str]:
    """``"127.0.0.1, 10.0.0.0/8"`` → its entries (empty text: none)."""
    return [part.strip() for part in text.split(",") if part.strip()]


class Settings(BaseSettings):
    """Runtime configuration of every vacrec process."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    home: Path = Field(default=Path("./.vacrec"), description="SQLite file, caches, reports.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///$VACREC_HOME/vacrec.db."
    )
    term_vector_folder: Path | None = Field(
        default=None, description="Where builds keep encoded term vectors (default: snapshots')."
    )
    epsilon: float = Field(default=0.1, ge=0.0, le=1.0, description="Exploration when serving.")
    explore_temperature: float = Field(
        default=0.0,
        ge=0.0,
        description="When > 0 and a model serves, an explored request is drawn mostly by a "
        "softmax of (Q + optimism × doubt) / this, where the model is unsure or nearly sure it "
        "is good (0: the related-first spread).",
    )
    feedback_ttl_s: int = Field(default=86400, gt=0, description="How long an event takes votes.")
    train_on_simulated: bool = Field(
        default=False,
        description="Train and evaluate on simulated events too (`vacrec simulate`).",
    )
    train_on_legacy: bool = Field(
        default=False,
        description="Also train on `POST /api/write/` rewards not tied to an event.",
    )
    train_window_events: int | None = Field(
        default=None,
        ge=1,
        description="Train and evaluate on the newest N rated events only (all when unset).",
    )
    train_window_days: float | None = Field(
        default=None,
        gt=0,
        description="Train and evaluate on the rated events of the last D days only (all "
        "when unset); with VACREC_TRAIN_WINDOW_EVENTS both limits apply.",
    )
    extra_skills: list[str] = Field(
        default_factory=list, description="Skills added to the packaged vocabulary."
    )
    model_poll_s: float = Field(default=2.0, gt=0, description="How often serving checks models.")
    catalog_poll_s: float = Field(
        default=5.0, gt=0, description="How often serving checks catalog."
    )
    retrain_every_s: float | None = Field(
        default=None,
        ge=MIN_RETRAIN_EVERY_S,
        description="`vacrec serve` retrains this often, in seconds, at least 60 (off when unset).",
    )
    rate_limit_recommendations: str = Field(
        default="60/minute;600/hour",
        description='Recommendations per client address ("N/second|minute|hour|day", ";" '
        'between several; "off" for none).',
    )
    rate_limit_rewards: str = Field(
        default="60/minute;600/hour",
        description="Rewards (feedback and legacy writes) per client address; same syntax.",
    )
    rate_limit_dashboard: str = Field(
        default="30/minute",
        description="`GET /api/v1/dashboard` calls per client address; same syntax (the page "
        "itself refreshes twice a minute).",
    )
    rate_limit_delay_s: float = Field(
        default=1.0,
        ge=0.0,
        le=10.0,
        description="A 429 (over budget) is answered this many seconds late (at most its "
        "Retry-After): a client retrying at once then costs a worker one cheap answer a second "
        "per connection, not hundreds.",
    )
    rate_limit_max_keys: int = Field(
        default=50_000,
        ge=1,
        description="memory:// storage: most budget keys (two per address and rule) a worker "
        "keeps; beyond, the least recently used are forgotten.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the limits count (a `limits` storage URI, e.g. redis://host:6379 "
        "so that workers and replicas share one budget); memory:// counts per worker.",
    )
    session_ttl_s: int = Field(
        default=86400,
        gt=0,
        description="How long a session (one browser tab's session_id) remembers what it was "
        "shown and rejected.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses or networks of reverse proxies whose X-Forwarded-For names the "
        'client, comma-separated (e.g. "127.0.0.1" for nginx on the same host, '
        '"10.0.0.0/8"); empty: forwarded headers are ignored and the peer address counts.',
    )
    client_key: str = Field(
        default="vacrec",
        description="Key of the hash that stores a client's address as an identity; set one "
        "secret for all replicas so stored identities cannot be reversed by hashing every "
        "address.",
    )
    train_max_client_share: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="Most one client identity (address; IPv6 /64) may make of the rows a "
        "model is trained and judged on (it keeps at least "
        "VACREC_TRAIN_MIN_CLIENT_ROWS); beyond, a seeded sample of its rows is kept.",
    )
    train_min_client_rows: int = Field(
        default=20,
        ge=1,
        description="Rows every client identity may keep, whatever the share cap says.",
    )
    promotion_drift_threshold: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Total-variation distance between the rewards of the events since the "
        "newest model and those before, above which (when significant) a better candidate "
        "is registered but held for an operator to promote.",
    )
    promotion_min_held_out: int = Field(
        default=50,
        ge=0,
        description="Fewest held-out rated events (with logged propensities) a candidate "
        "must be compared on before `--promote auto` may make it live; below, it is "
        "registered only. Fewer give intervals that say nothing.",
    )
    train_lock_wait_s: float = Field(
        default=900.0,
        ge=0,
        description="How long a training waits for another one on the same database to finish.",
    )
    card_vote_weight: float = Field(
        default=0.3,
        ge=0,
        description="How far per-card votes move a vacancy within its industry, in cosine "
        "units (0: cards ranked by text only).",
    )
    card_vote_prior: float = Field(
        default=5.0,
        gt=0,
        description="Pseudo-votes at the average card a vacancy's (and a seeker group's) "
        "votes must outweigh before they move it.",
    )
    card_swap: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of requests (explore=true) whose cards trade one adjacent pair, each "
        "card's exact position propensity logged (0: the ranker's order always).",
    )
    card_votes_every_s: float | None = Field(
        default=300.0,
        ge=1,
        description="`vacrec serve` rebuilds the per-vacancy vote sums this often, in seconds "
        "(off when unset).",
    )
    simulator_seed: int = Field(
        default=0, description="Seed of the simulated users' latent liking (fixed population)."
    )
    hh_api_url: str = Field(default="https://api.hh.ru", description="Base URL of the hh.ru API.")
    hh_user_agent: str = Field(
        default="vacrec/0.1 (vacrec-maintainers@example.org)",
        description="HH-User-Agent header: application name and a contact, as the API requires.",
    )
    hh_rate_per_s: float = Field(
        default=2.0, gt=0, description="Most hh.ru API requests started per second (politeness)."
    )
    hh_timeout_s: float = Field(default=15.0, gt=0, description="Timeout of one API request.")
    hh_max_attempts: int = Field(
        default=5, ge=1, description="Tries per API request on 429, 5xx, timeouts."
    )
    hh_token: SecretStr | None = Field(
        default=None,
        description="hh.ru application token, sent as `Authorization: Bearer` by `vacrec "
        "collect` and `vacrec refresh` (hh.ru refuses anonymous vacancy search with 403).",
    )
    retire_after_days: float = Field(
        default=30.0,
        gt=0,
        description="`vacrec refresh` retires a posting no collection or ingest has read for "
        "this many days (and at once one hh.ru reports archived); retired postings are kept "
        "for the logs but not served.",
    )

    # Bounded waits: whatever the database or a client does, a request ends within seconds.
    db_timeout_s: float = Field(
        default=3.0,
        gt=0,
        description="Serving: longest run of one statement (PostgreSQL statement_timeout) "
        "before answering 503; lock waits (SQLite busy timeout, PostgreSQL lock_timeout) "
        "end at 80 % of it; an event or rating waits at most twice this for its group commit.",
    )
    db_connect_timeout_s: int = Field(
        default=3, ge=1, description="Longest wait to open a database connection (PostgreSQL)."
    )
    db_pool_timeout_s: float = Field(
        default=2.0, gt=0, description="Serving: longest wait for a free pooled connection."
    )
    retry_after_s: int = Field(
        default=2, ge=1, le=60, description="Retry-After of a 503 caused by the database."
    )
    ready_timeout_s: float = Field(
        default=3.0, gt=0, description="/readyz answers within this, ready or not."
    )
    ready_write_every_s: float = Field(
        default=5.0,
        ge=0,
        description="/readyz commits its heartbeat row at most this often per worker "
        "(between, it repeats the last result).",
    )
    db_min_free_mb: int = Field(
        default=64,
        ge=0,
        description="SQLite: /readyz says 'disk full' below this much free space on the "
        "database's filesystem.",
    )
    http_max_connections: int = Field(
        default=1000,
        ge=1,
        description="`vacrec serve`: open connections per worker; beyond, requests get a "
        "fast 503 (uvicorn limit_concurrency).",
    )
    http_max_connections_per_address: int = Field(
        default=64,
        ge=0,
        description="`vacrec serve`: open connections per client address and worker, below "
        "VACREC_HTTP_MAX_CONNECTIONS; beyond, a new connection is closed at once (0: no cap, "
        "e.g. behind a reverse proxy on this host).",
    )
    http_read_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="`vacrec serve`: a request's headers and body must arrive within this, "
        "or the connection is closed (408).",
    )
    http_keep_alive_s: int = Field(
        default=5, ge=1, description="`vacrec serve`: idle keep-alive connections close after."
    )
    http_backlog: int = Field(
        default=2048, ge=16, description="`vacrec serve`: the listening socket's accept queue."
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="When set, operator routes (`/api/v1/dashboard`) require "
        "`Authorization: Bearer <token>`; unset, they are open.",
    )
    dashboard_cache_s: float = Field(
        default=30.0,
        ge=0,
        description="The dashboard's figures are reused this long (the page reloads them "
        "twice a minute); one worker of the host computes them, concurrent callers and the "
        "other workers share it (0: compute for every call, one at a time).",
    )
    csp_img_src: str = Field(
        default="'self' data:",
        description="CSP img-src of the web pages; add e.g. https://img.hhcdn.ru to show "
        "catalog logos (by default the pages load no third-party image).",
    )

    @field_validator("csp_img_src")
    @classmethod
    def _one_directive(cls, value: str) -> str:
        if any(c in value for c in ";,\r\n"):
            raise ValueError("CSP sources only, e.g. \"'self' data: https://img.hhcdn.ru\"")
        return value

    @field_validator("rate_limit_recommendations", "rate_limit_rewards", "rate_limit_dashboard")
    @classmethod
    def _readable_rate_limit(cls, value: str) -> str:
        try:
            parse_rate_limit(value)
        except ValueError:
            raise ValueError(
                'expected "N/unit" (unit second, minute, hour or day), several joined by ";", '
                'or "off"'
            ) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _readable_proxies(cls, value: str) -> str:
        for part in split_proxies(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not an address or network; e.g. 127.0.0.1,10.0.0.0/8"
                ) from None
        return value

    @field_validator("http_max_connections_per_address")
    @classmethod
    def _below_max_connections(cls, value: int, info: ValidationInfo) -> int:
        total = info.data.get("http_max_connections")
        if value and total is not None and value >= total:
            raise ValueError(
                f"must be below VACREC_HTTP_MAX_CONNECTIONS ({total}), or one address could "
                "hold every connection (0 turns the cap off)"
            )
        return value

    @field_validator("admin_token")
    @classmethod
    def _usable_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # VACREC_ADMIN_TOKEN= (empty) means no token, as unset does
        token = value.get_secret_value()
        if len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token:
            raise ValueError("at least 16 printable ASCII characters without spaces")
        return value

    @field_validator("hh_token")
    @classmethod
    def _token_or_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None  # VACREC_HH_TOKEN= (empty) means no token, as unset does
        return SecretStr(value.get_secret_value().strip())

    @field_validator("home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'vacrec.db').resolve()}"

    @property
    def dashboard_share_path(self) -> Path:
        """Where the workers of this host share the dashboard's figures (one file per
        database: two servers with one home but different stores must not mix them)."""
        digest = hashlib.sha256(self.resolved_database_url.encode()).hexdigest()[:16]
        return self.home.resolve() / "dashboard" / f"{digest}.json"

    @property
    def skill_vocabulary(self) -> SkillVocabulary:
        """The packaged skills followed by ``extra_skills``."""
        return SkillVocabulary(self.extra_skills)

    @property
    def proxy_list(self) -> list[str]:
        """The trusted proxies' addresses and networks (empty: trust no forwarded header)."""
        return split_proxies(self.trusted_proxies)

    @property
    def reports_dir(self) -> Path:
        """Where training writes its loss curve and report."""
        return self.home / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


class BadSettings(Exception):
    """The environment holds a setting this build cannot use; the message names it."""


def load_settings() -> Settings:
    """The process-wide settings, or :class:`BadSettings` with one line per bad variable:
    the variable, the value it had, and what is allowed."""
    try:
        return get_settings()
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "?"
            variable = f"{ENV_PREFIX}{field.upper()}"
            value = os.environ.get(variable, problem.get("input"))
            if field in SECRET_FIELDS:
                value = "<hidden>"  # a secret never goes to a terminal or a log
            lines.append(f"{variable}={value!r}: {problem['msg']}")
        raise BadSettings("; ".join(lines)) from None
    except SettingsError as error:  # a value that is not even JSON where JSON is expected
        field = str(error).split('"')[1] if '"' in str(error) else "?"
        variable = f"{ENV_PREFIX}{field.upper()}"
        raise BadSettings(
            f"{variable}={os.environ.get(variable)!r}: must be JSON, "
            'e.g. ["граффити", "витраж"] for a list'
        ) from None
