"""Reading a config file: YAML with line marks, ``${ENV}`` expansion, secrets-as-references, errors.

Why by hand: a user who mistypes a key needs the key *and* the line. PyYAML composes a node tree
that knows where every key and value starts; pydantic reports where in the data it failed; this
module joins the two. Environment references are expanded on the parsed values (never on the raw
text), so a variable's value can never inject YAML.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError

from core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str, ...]

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_TYPES = (SecretStr, SecretBytes)


def parse_config(file: Path, env: Mapping[str, str], model: type[M], *, overrides: Mapping[str, Any],
                 context: Mapping[str, Any] | None = None) -> M:
    """Read, expand and validate ``file`` as ``model``; ConfigError lists every problem with its line."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", str(file)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", str(file)) from None
    node, data, problems = _parse_yaml(text, file)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("(line 1): the file must be a mapping of settings (key: value)", str(file))
    lines: dict[Loc, int] = {}
    if node is not None:
        _collect_lines(node, (), lines, set())
    unset: dict[Loc, list[str]] = {}
    expanded = _expand(data, env, (), unset)
    for loc in _secret_locs(model, data, ()):
        raw = _get(data, loc)
        if raw is not None and not _is_reference(raw):
            problems.append((_line(lines, loc), f"{_dotted(loc)} (line {_line(lines, loc)}): "
                             "secrets must be ${ENV_VAR} references, not literals"))
    expanded.update(overrides)
    try:
        settings = model.model_validate(expanded, context=dict(context or {}))
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            problems.append(_describe(err, lines, unset, model))
        settings = None
    if problems or settings is None:
        raise ConfigError([text for _, text in sorted(problems, key=lambda p: p[0])], str(file))
    return settings


def _parse_yaml(text: str, file: Path) -> tuple[yaml.Node | None, Any, list[tuple[int, str]]]:
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None, None, []
        duplicates: list[tuple[int, str]] = []
        _find_duplicates(node, (), duplicates, set())
        # Constructing flattens merge keys (<<) in the node tree too, so lines follow the data.
        return node, loader.construct_document(node), duplicates
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError(yaml_problem(exc, text), str(file)) from None
    finally:
        if loader is not None:
            loader.dispose()


def yaml_problem(exc: BaseException, text: str) -> str:
    """One line a person can act on: where the YAML breaks and why, without PyYAML's stack of marks."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        started = ""
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            started = (f" ({exc.context.removeprefix('while parsing ')} that began at line "
                       f"{exc.context_mark.line + 1}, column {exc.context_mark.column + 1})")
        return f"YAML syntax error{where}: {exc.problem or exc.context or 'invalid YAML'}{started}"
    if isinstance(exc, yaml.reader.ReaderError):  # a control character
        before = text[: exc.position]
        where = f"line {before.count(chr(10)) + 1}, column {len(before) - before.rfind(chr(10))}"
        return f"YAML syntax error ({where}): character #x{exc.character:04x} is not allowed"
    if isinstance(exc, RecursionError):
        return "YAML error: nested too deeply"
    return f"YAML error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def unknown_key(where: str, key: object, allowed: list[str] | tuple[str, ...]) -> str:
    """"<where>: unknown key 'titel'; did you mean 'title'? (allowed: ...)"."""
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{where}: unknown key {key!r}{hint} (allowed: {', '.join(sorted(allowed))})"


def _find_duplicates(node: yaml.Node, loc: Loc, problems: list[tuple[int, str]], active: set[int]) -> None:
    """PyYAML keeps the last of two equal keys silently; in a config that is almost always a mistake."""
    if id(node) in active:  # a recursive alias: construction will reject it
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in seen:
                problems.append((line, f"{_dotted((*loc, key))} (line {line}): duplicate key "
                                 f"(first at line {seen[key]})"))
            seen.setdefault(key, line)
            _find_duplicates(value_node, (*loc, key), problems, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _find_duplicates(item, (*loc, str(index)), problems, active)
    active.discard(id(node))


def _collect_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], active: set[int]) -> None:
    """Map every key path to the 1-based line of its key (or list item); the last of equal keys wins."""
    if id(node) in active:
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*loc, str(key_node.value))
            lines[key] = key_node.start_mark.line + 1
            _collect_lines(value_node, key, lines, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = (*loc, str(index))
            lines[key] = item.start_mark.line + 1
            _collect_lines(item, key, lines, active)
    active.discard(id(node))


def _expand(value: Any, env: Mapping[str, str], loc: Loc, unset: dict[Loc, list[str]]) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in string values. An unset variable (or an empty
    result) makes the whole value None, so an optional secret without its variable is just absent."""
    if isinstance(value, dict):
        return {k: _expand(v, env, (*loc, str(k)), unset) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, (*loc, str(i)), unset) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = env.get(name)
        if found:
            return found
        if default is not None:
            return default
        missing.append(name)
        return ""

    result = _REF.sub(substitute, value)
    if missing:
        unset[loc] = missing
        return None
    return result if result != "" or not _REF.fullmatch(value) else None


def _is_reference(raw: Any) -> bool:
    """A secret must be exactly ``${VAR}`` (an empty default is allowed; a literal default is not)."""
    if not isinstance(raw, str):
        return False
    match = _REF.fullmatch(raw.strip())
    return bool(match) and not match.group(2)


def _secret_locs(annotation: Any, value: Any, loc: Loc) -> list[Loc]:
    """Paths in ``value`` whose declared type is a secret, following the models' annotations."""
    if annotation in _SECRET_TYPES:
        return [loc]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _secret_locs(args[0], value, loc)
    if origin in (typing.Union, types.UnionType):
        found: list[Loc] = []
        for arg in args:
            found.extend(p for p in _secret_locs(arg, value, loc) if p not in found)
        return found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(value, dict):
        found = []
        for name, field in annotation.model_fields.items():
            key = field.alias or name
            if key in value:
                found.extend(_secret_locs(field.annotation, value[key], (*loc, key)))
        return found
    if origin in (list, tuple, set, frozenset) and isinstance(value, list) and args:
        return [p for i, v in enumerate(value) for p in _secret_locs(args[0], v, (*loc, str(i)))]
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return [p for k, v in value.items()
                for p in _secret_locs(_value_model(args[1], k), v, (*loc, str(k)))]
    return []


def _value_model(annotation: Any, key: Any) -> Any:
    """A `channels` block is validated by its own channel's model, so walk that one."""
    from bots.base import ChannelSettings

    if annotation is ChannelSettings and isinstance(key, str):
        from bots import settings_model

        try:
            return settings_model(key)
        except (ConfigError, ImportError):
            return annotation
    return annotation


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(data, dict):
            data = next((v for k, v in data.items() if str(k) == part), None)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _line(lines: dict[Loc, int], loc: Loc) -> int:
    """The line of ``loc``, or of its nearest ancestor written in the file (for missing keys)."""
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _dotted(loc: Loc) -> str:
    return ".".join(loc) or "(top level)"


def _describe(err: Mapping[str, Any], lines: dict[Loc, int], unset: dict[Loc, list[str]],
              model: type[BaseModel]) -> tuple[int, str]:
    loc = tuple(str(part) for part in err["loc"] if part != "[key]")
    line = _line(lines, loc)
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] == "extra_forbidden":
        message = "unknown key" + _suggestion(model, loc)
    names = sorted({n for where, found in unset.items() if where[: len(loc)] == loc for n in found})
    if names:
        message += f" ({', '.join(names)} not set in the environment)"
    return line, f"{_dotted(loc)} (line {line}): {message}"


def _suggestion(model: type[BaseModel], loc: Loc) -> str:
    """'; did you mean ...?' from the keys the model knows, when one is close to the typo."""
    annotation: Any = model
    for part in loc[:-1]:
        annotation = _step(annotation, part)
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return ""
    close = difflib.get_close_matches(loc[-1], list(annotation.model_fields), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _step(annotation: Any, part: str) -> Any:
    """The annotation one key deeper (None when it cannot be followed)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return next((s for a in args if (s := _step(a, part)) is not None), None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part)
        return field.annotation if field else None
    if origin is dict and len(args) == 2:
        return _value_model(args[1], part)
    if origin in (list, tuple, set, frozenset) and args:
        return args[0]
    return None
