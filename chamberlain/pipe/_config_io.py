"""Writing and reading config override files (``config.a.b = value`` statements)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chamberlain.errors import ConfigError

from .configurable import ConfigurableField, RegistryField, import_path

if TYPE_CHECKING:
    from .config import Config

_HEADER = "# Chamberlain config overrides for {cls}. Load with {cls}().load(path).\n"


def literal(value: Any, where: str) -> str:
    """Return Python source that evaluates to ``value``.

    Raises
    ------
    ConfigError
        If the value is not a None, bool, int, float, str, list, tuple or dict of those.
    """
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f"float({str(value)!r})"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, where) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(literal(v, where) + ", " for v in value) + ")"
    if isinstance(value, dict):
        items = ", ".join(f"{literal(k, where)}: {literal(v, where)}" for k, v in value.items())
        return "{" + items + "}"
    raise ConfigError(
        f"Cannot save {where} = {value!r}: values of type {type(value).__name__} have no literal form."
    )


def override_lines(config: Config, prefix: str) -> list[str]:
    """Return the statements that set every field of ``config`` under ``prefix``."""
    from .config import Config

    lines: list[str] = []
    for name in type(config).model_fields:
        value = getattr(config, name)
        where = f"{prefix}.{name}"
        if isinstance(value, Config):
            lines += override_lines(value, where)
        elif isinstance(value, ConfigurableField):
            target = import_path(value.target)
            config_class = import_path(value.config_class)
            lines.append(f"{where}.retarget({target!r}, {config_class!r})")
            lines += override_lines(value.value, f"{where}.value")
        elif isinstance(value, RegistryField):
            for option, option_config in value.created_options().items():
                lines += override_lines(option_config, f"{where}[{option!r}]")
            lines.append(f"{where}.name = {value.name!r}")
        else:
            lines.append(f"{where} = {literal(value, where)}")
    return lines


def save_config(config: Config, path: Path) -> None:
    """Write ``config`` to ``path`` (see `Config.save`)."""
    cls = import_path(type(config))
    text = _HEADER.format(cls=cls) + "\n".join(override_lines(config, "config")) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def load_config(config: Config, path: Path) -> None:
    """Execute the override file ``path`` with ``config`` bound (see `Config.load`)."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"Cannot read config override file {str(path)!r}: {err}.") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as err:
        raise ConfigError(f"Config override file {str(path)!r} line {err.lineno}: {err.msg}.") from None
    namespace: dict[str, Any] = {"config": config, "__file__": str(path), "__name__": "__config__"}
    try:
        exec(code, namespace)
    except ConfigError as err:
        raise ConfigError(f"{err} (while loading {str(path)!r})") from err
    except Exception as err:
        raise ConfigError(f"Config override file {str(path)!r} failed: {type(err).__name__}: {err}.") from err
