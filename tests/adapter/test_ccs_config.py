"""``[ccs]`` (docs/tls.md): TLS toward the charger in the one validated configuration table."""

from __future__ import annotations

import random
import ssl
from pathlib import Path

import pytest

from ccs2chademo.adapter.bridge import Bridge
from ccs2chademo.adapter.ccs_side import tls_policy
from ccs2chademo.adapter.config import ConfigError, build_config, load_config
from ccs2chademo.sim.pki import make_test_pki
from ccs2chademo.v2g.tls import TlsMode


def test_without_the_table_tls_is_off_and_the_file_loads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "old.toml"
    path.write_text('preset = "sx"\nmax-amps = 125\n')
    config = load_config(path)
    assert config.ccs.tls == "off" and config.ccs.v2g_root_certs == () and config.ccs.tls_keylog_file is None
    assert tls_policy(config.ccs).mode is TlsMode.OFF and tls_policy(config.ccs).context is None
    assert "ccs" not in config.non_defaults()  # the boot record's config is what it was


def test_a_file_with_the_table(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki")
    path = tmp_path / "adapter.toml"
    path.write_text(f'[ccs]\ntls = "require"\nv2g-root-certs = ["{pki.root}"]\n'
                    f'tls-keylog-file = "{tmp_path / "keys.log"}"\n')
    config = load_config(path)
    policy = tls_policy(config.ccs)
    assert policy.mode is TlsMode.REQUIRE and policy.context is not None
    assert policy.context.verify_mode == ssl.CERT_REQUIRED and (tmp_path / "keys.log").exists()


@pytest.mark.parametrize(("table", "message"), [
    ({"tls": "prefer"}, "needs v2g-root-certs"),
    ({"tls": "always"}, "ccs.tls: Input should be 'off', 'prefer' or 'require'"),
    ({"tls": "off", "tls-keylog": "x"}, "ccs.tls-keylog"),
    ({"tls-accept-unverified": "yes"}, "ccs.tls-accept-unverified: Input should be a valid boolean"),
])
def test_bad_tables_are_errors_naming_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config({"ccs": table}, source="adapter.toml")


def test_an_unreadable_root_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    config = build_config({"ccs": {"tls": "prefer", "v2g-root-certs": [str(tmp_path / "missing.pem")]}})
    with pytest.raises(ConfigError, match=r"\[ccs\] v2g-root-certs"):
        tls_policy(config.ccs)


def test_accept_unverified_needs_no_roots_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    config = build_config({"ccs": {"tls": "prefer", "tls-accept-unverified": True}})
    policy = tls_policy(config.ccs)
    assert policy.context is not None and policy.context.verify_mode == ssl.CERT_NONE
    assert any("NOT checked" in message for message in caplog.messages)


def test_the_bridge_wants_the_policy_when_tls_is_on() -> None:
    config = build_config({"ccs": {"tls": "prefer", "tls-accept-unverified": True}})
    with pytest.raises(ValueError, match="TlsPolicy"):
        Bridge(config, bytes(6), random.Random(0))
    Bridge(config, bytes(6), random.Random(0), tls=tls_policy(config.ccs))
