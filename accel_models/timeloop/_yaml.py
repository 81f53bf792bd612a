"""Timeloop documents in and out: read a file or text safely (limits, tags, Jinja2); dump data as Timeloop reads it.

Reading is guarded before any object is built: the text's size, then the YAML event stream's nesting
depth and its size with every alias expanded (a "billion laughs" document is refused, not built), and
only then the document is constructed. Timeloop front end's tags (`!Container`, `!Component`, ...)
become `Tagged` dicts; a quoted scalar becomes `Quoted` (timeloopfe keeps quoted strings as text and
evaluates the others as expressions); `1e-9` reads as a float, as in YAML 1.2 (Timeloop's parsers).
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import yaml

from ._render import render

YamlSource = str | Path | dict
"""YAML text, an already parsed document, or a path to a YAML file."""

MAX_DOCUMENT_BYTES = 8 << 20
"""Largest input file or text accepted (Timeloop's own inputs are a few kB; a dump is < 100 kB)."""
MAX_DEPTH = 100
"""Deepest nesting of YAML collections accepted (a Timeloop architecture nests < 15 deep)."""
MAX_NODES = 1_000_000
"""Most YAML nodes a document may hold with every alias expanded (aliases in real inputs copy a few actions)."""

TIMELOOP_TAGS = ("!Container", "!Component", "!Parallel", "!Hierarchical", "!Pipelined", "!Nothing")
"""The node tags of timeloopfe v0.4 architectures."""
ACCELFORGE_TAGS = ("!Memory", "!Compute", "!Container", "!Toll", "!Fork", "!Hierarchical", "!Storage", "!Temporal",
                   "!Spatial", "!Nested", "!Sequential", "!Pipeline", "!Reservation")
"""The node tags of AccelForge's architectures and mappings (its file-reading tags, `!include` ..., are refused)."""


class Tagged(dict):
    """A mapping written with a Timeloop tag (`!Component`, ...); `tag` holds it."""

    def __init__(self, tag: str, items=()) -> None:
        super().__init__(items)
        self.tag = tag


class Flow(list):
    """A list written inline, `[Weights, Inputs]`, as Timeloop's own files write short lists."""


class FlowMap(dict):
    """A mapping written inline, `{name: Wstride, default: 1}`."""


class Quoted(str):
    """A string written in quotes (`technology: "45nm"`): read as text, never as an expression."""


# ---- reading ---------------------------------------------------------------------------------
def read_text(path: Path, what: str, kind: str = "text") -> str:
    """The text of a file, with one clear error naming `what` and the path for a missing path, a directory,
    a binary or non-UTF-8 file, or too large a file (`kind` names the file expected: 'YAML', 'stats', ...)."""
    try:
        if not path.exists():
            raise ValueError(f"{what}: no file at {path}")
        if path.is_dir():
            raise ValueError(f"{what}: {path} is a directory; expected a {kind} file")
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise ValueError(f"{what}: {path} is {size:,} bytes; at most {MAX_DOCUMENT_BYTES:,} are accepted")
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{what}: cannot read {path} ({exc.strerror or exc})") from None
    if b"\x00" in data:
        raise ValueError(f"{what}: {path} is a binary file, not UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what}: {path} is not UTF-8 text (byte {exc.start})") from None


_BLOCK_PLAIN_END = re.compile(r":(?=[ \t\r\n]|\Z)|(?<=[ \t])#|\n")
_FLOW_PLAIN_END = re.compile(r"[\[\]{},\n]|:(?=[ \t\r\n,\[\]{}]|\Z)|(?<=[ \t])#")
_QUOTED_END = {"'": re.compile(r"(?:[^']|'')*'"), '"': re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)}
_BLOCK_TOKEN_END = re.compile(r"[ \t\r\n]|\Z")
_FLOW_TOKEN_END = re.compile(r"[ \t\r\n,\[\]{}]|\Z")
_INDENT = re.compile(r" *")
_ANCHOR_NAME = re.compile(r"[0-9A-Za-z_-]*")
"""The name after `&` or `*`: the characters PyYAML's scanner takes in an anchor or alias (`*a:` is the alias `a`
and a value indicator)."""


def _flow_nesting_exceeds(text: str, limit: int) -> bool:
    """True if flow collections (`[...]`, `{...}`) nest more than `limit` deep anywhere in `text`.

    A lexical scan of the project's own, run before any YAML library sees the text: libyaml reads up to
    1,024 characters ahead of the last event it gives, so on a run of brackets its own nesting limit (1,000
    levels from PyYAML 6.0.4 on, none before) would answer before the event walk below counts 101, in the
    library's words. The scan follows YAML's lexical rules as far as finding brackets needs: it skips quoted
    scalars, comments (`#` after a space), plain scalars with their continuation lines (`key: a[0]` opens
    nothing) and block scalars (`|`, `>`), whose extent it takes, as YAML's scanners do, from the indentation
    of the enclosing block collections (`indents`). Block nesting and aliases are left to the event walk.
    """
    return _FlowScan(text, limit).exceeds()


class _FlowScan:
    """`_flow_nesting_exceeds`'s scan of `text`, a token at a time: the position `i`, the flow collections open
    there (`depth`), the block collections' columns (`indents`, a key's or a `- `'s column), the start of the line
    and the column of the node that began on it (a key if `: ` follows; where a tag or an anchor precedes the node,
    theirs, as YAML's scanners take a simple key's column), and what the next character may be: a line start in
    block context (`new_line`), a line of a block scalar (`block_scalar`), the continuation of a plain scalar that
    ran to the end of the previous line (`plain_open`), or the start of a node, hence a collection or a quoted
    scalar (`node_start`)."""

    def __init__(self, text: str, limit: int) -> None:
        self.text, self.limit, self.n = text, limit, len(text)
        self.i = 0
        self.depth = 0
        self.indents: list[int] = []
        self.line_start = 0
        self.node_col = None
        self.block_scalar = False
        self.plain_open = False
        self.node_start = True
        self.new_line = True

    def exceeds(self) -> bool:
        while self.i < self.n:
            if self.new_line:
                self._line()
            elif self._token():
                return True
        return False

    def _to_line_end(self, i: int) -> int:
        """The position of the newline ending the line at i (the text's end if none)."""
        end = self.text.find("\n", i)
        return self.n if end < 0 else end

    def _line(self) -> None:
        """A line in block context: a block scalar's or a plain scalar's continuation skipped whole, or else the
        block collections it closes by its indentation, a document marker or a directive."""
        text, n, i = self.text, self.n, self.i
        self.new_line = False
        self.line_start = i
        j = _INDENT.match(text, i).end()
        top = self.indents[-1] if self.indents else -1
        marker = j == i and text.startswith(("---", "..."), i) and _BLOCK_TOKEN_END.match(text, i + 3)
        if (self.block_scalar or self.plain_open) and not marker and (j >= n or text[j] in "\r\n" or j - i > top):
            if self.block_scalar or j >= n or text[j] in "\r\n":  # its text, or a blank line
                end = text.find("\n", j)
                self.i, self.new_line = (n, False) if end < 0 else (end + 1, True)
            elif text[j] == "#":  # a comment: it ends the plain scalar
                self.plain_open = False
                self.i = self._to_line_end(j)
            else:  # the plain scalar's next line
                match = _BLOCK_PLAIN_END.search(text, j)
                self.i = n if match is None else match.start()
                self.plain_open = match is not None and match.group() == "\n"
            return
        self.block_scalar = self.plain_open = False
        while self.indents and self.indents[-1] > j - i:
            self.indents.pop()
        self.node_start, self.node_col, self.i = True, None, j
        if marker:  # `---` or `...`: a document starts or ends
            self.indents.clear()
            self.i += 3
        elif text.startswith("%", j):  # a directive line
            self.i = self._to_line_end(j)

    def _token(self) -> bool:
        """The token at i (whitespace, a comment, a bracket, a comma, an indicator, a quoted, anchored, block or
        plain scalar), stepped over; True when a bracket opens deeper than the limit."""
        text, i, depth = self.text, self.i, self.depth
        c = text[i]
        col = i - self.line_start
        if c in " \t\r\n":
            self.new_line = c == "\n" and not depth
            self.i += 1
        elif c == "#":  # where a token may start, as YAML's scanners read it
            self.i = self._to_line_end(i)
        elif c in "[{" and (self.node_start or depth):
            if not depth and self.node_col is None:
                self.node_col = col
            self.depth += 1
            if self.depth > self.limit:
                return True
            self.node_start = True
            self.i += 1
        elif c in "]}" and depth:
            self.depth -= 1
            self.node_start = False
            self.i += 1
        elif c == "," and depth:
            self.node_start = True
            self.i += 1
        elif c in "-?:" and (depth or c != "-" or self.node_start) and _BLOCK_TOKEN_END.match(text, i + 1) \
                or c == ":" and depth:
            self._indicator(c, col)
        elif self.node_start and c in "'\"":
            if not depth and self.node_col is None:
                self.node_col = col
            match = _QUOTED_END[c].match(text, i + 1)
            self.i = self.n if match is None else match.end()
            self.node_start = False
        elif self.node_start and c in "!&*":  # a tag or an anchor precedes the node; an alias is one
            if not depth and self.node_col is None:
                self.node_col = col
            end = _FLOW_TOKEN_END if depth else _BLOCK_TOKEN_END
            self.i = (end.search(text, i + 1).start() if c == "!" else _ANCHOR_NAME.match(text, i + 1).end())
            self.node_start = c != "*"
        elif self.node_start and c in "|>" and not depth:
            self.block_scalar = True
            self.i = self._to_line_end(i)
        else:
            self._plain_scalar(col)
        return False

    def _indicator(self, c: str, col: int) -> None:
        """An indicator: `- ` (sequence entry), `? ` (key), `: ` (value; any `:` a plain scalar left in flow); in
        block context a block collection opens at the entry's, the key's or the value's column."""
        if not self.depth:
            key_col = self.node_col if c == ":" and self.node_col is not None else col
            if key_col > (self.indents[-1] if self.indents else -1):
                self.indents.append(key_col)
            self.node_col = None
        self.node_start = True
        self.i += 1

    def _plain_scalar(self, col: int) -> None:
        """A plain scalar: to the next indicator that can end it (in block context it may run on the next line)."""
        depth = self.depth
        if not depth and self.node_start and self.node_col is None:
            self.node_col = col
        match = (_FLOW_PLAIN_END if depth else _BLOCK_PLAIN_END).search(self.text, self.i + 1)
        self.i = self.n if match is None else match.start()
        self.plain_open = not depth and (match is None or match.group() == "\n")
        self.node_start = False


def _check_events(text: str, what: str) -> None:
    """Walk the YAML event stream (built iteratively, never recursively) and refuse a document that nests
    deeper than MAX_DEPTH or holds more than MAX_NODES nodes once its aliases are expanded."""
    depth = 0
    total = 0
    sizes: dict[str, int] = {}
    open_anchors: list[tuple[str | None, int]] = []
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.AliasEvent):
                total += sizes.get(event.anchor, 1)
            elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                total += 1
                if isinstance(event, yaml.ScalarEvent):
                    if event.anchor:
                        sizes[event.anchor] = 1
                else:
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise ValueError(f"{what}: YAML nested more than {MAX_DEPTH} levels deep")
                    open_anchors.append((event.anchor, total - 1))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor, start = open_anchors.pop()
                if anchor:
                    sizes[anchor] = total - start
            if total > MAX_NODES:
                raise ValueError(f"{what}: YAML expands to more than {MAX_NODES:,} nodes (aliases of aliases?)")
    except yaml.YAMLError as exc:
        raise ValueError(f"{what}: not valid YAML ({_one_line(exc)})") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def parse(text: str, what: str, allow_empty: bool = False, tags: tuple[str, ...] = TIMELOOP_TAGS) -> dict:
    """YAML text -> a dict, after the size, depth and alias checks; `tags`: the node tags accepted (Timeloop's or
    AccelForge's), each read as a `Tagged` mapping."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{what}: the YAML text is {len(text):,} characters; at most {MAX_DOCUMENT_BYTES:,}")
    if _flow_nesting_exceeds(text, MAX_DEPTH):
        raise ValueError(f"{what}: YAML nested more than {MAX_DEPTH} levels deep")
    _check_events(text, what)
    try:
        data = yaml.load(text, Loader=_LOADERS[tags])
    except yaml.YAMLError as exc:
        raise ValueError(f"{what}: not valid YAML ({_one_line(exc)})") from None
    if data is None and allow_empty:
        return {}
    if data is None:
        raise ValueError(f"{what}: the document is empty")
    if not isinstance(data, dict):
        hint = f" ({text.strip()!r} names no file either)" if isinstance(data, str) and "\n" not in text.strip() else ""
        raise ValueError(f"{what}: expected a YAML mapping at the top level, got {type(data).__name__}{hint}")
    return data


def load(source: YamlSource, what: str, variables: dict | None = None, tags: tuple[str, ...] = TIMELOOP_TAGS
         ) -> dict:
    """Parse `source` (text, dict or path) into a dict; `what` names the document in errors.

    A path (a `Path`, or a one-line string naming a file or folder or ending in .yaml/.yml/.j2) is read with `read_text`;
    text is rendered with Jinja2 (`variables`) when it is a template, then parsed with `parse`.
    """
    if isinstance(source, dict):
        return source
    if isinstance(source, str) and _looks_like_path(source):
        source = Path(source)
    if isinstance(source, Path):
        text = read_text(source, what, "YAML")
        what = f"{what} ({source})"
        source = text
    if not isinstance(source, str):
        raise ValueError(f"{what}: expected YAML text, a dict or a path, got {type(source).__name__}")
    return parse(render(source, variables, what), what, tags=tags)


def read_yaml(path: Path, what: str) -> dict:
    """A YAML data file (not a template) -> a dict, through `read_text` and `parse`: the same size, depth and alias
    limits and one-line errors (a ValueError starting with `what`) as every document the project reads."""
    return parse(read_text(Path(path), what, "YAML"), what)


_YAML_SUFFIXES = (".yaml", ".yml", ".j2", ".jinja", ".jinja2")


def _looks_like_path(text: str) -> bool:
    """True if `text` is one line naming an existing file or folder, or a path ending in a YAML or Jinja2
    suffix (YAML text never is)."""
    if "\n" in text or not text.strip() or len(text) > 4096:
        return False
    if text.strip().lower().endswith(_YAML_SUFFIXES) and ": " not in text:
        return True
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False


# ---- the loaders -----------------------------------------------------------------------------
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loading plus Timeloop's tags, quoted-string marking and YAML 1.2 floats."""


def _str(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    value = loader.construct_scalar(node)
    return Quoted(value) if node.style in ('"', "'") else value


class _AccelForgeLoader(_Loader):
    """The same, with AccelForge's node tags."""


def _tag_constructors(loader: type, tags: tuple[str, ...]) -> None:
    def tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node):
        tag = "!" + tag_suffix
        if tag not in tags:
            raise yaml.constructor.ConstructorError(
                None, None, f"unknown tag {tag} (accepted: {', '.join(tags)})", node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return Tagged(tag, loader.construct_mapping(node, deep=True))
        if isinstance(node, yaml.ScalarNode) and not loader.construct_scalar(node):
            return Tagged(tag)
        raise yaml.constructor.ConstructorError(None, None, f"{tag} must tag a mapping", node.start_mark)

    def undefined(loader: yaml.SafeLoader, node: yaml.Node):
        raise yaml.constructor.ConstructorError(None, None, f"unknown tag {node.tag} (accepted: "
                                                f"{', '.join(tags)})", node.start_mark)

    loader.add_multi_constructor("!", tagged)
    loader.add_constructor(None, undefined)


_Loader.add_constructor("tag:yaml.org,2002:str", _str)
_YAML12_FLOAT = re.compile(r"^[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _YAML12_FLOAT, list("-+0123456789"))
_LOADERS = {TIMELOOP_TAGS: _Loader, ACCELFORGE_TAGS: _AccelForgeLoader}
for _tags, _loader in _LOADERS.items():
    _tag_constructors(_loader, _tags)


# ---- writing ---------------------------------------------------------------------------------
def inline(value):
    """`value` written inline if it is a list or a mapping (attribute values, as Timeloop writes them)."""
    if isinstance(value, dict):
        return FlowMap(value)
    if isinstance(value, (list, tuple)):
        return Flow(value)
    return value


class _Dumper(yaml.SafeDumper):
    """Safe dumping with block lists indented under their key, no anchors, and Timeloop's float text."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data) -> bool:
        return True


def _float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    """Shortest text that reads back to `value`, exponent without leading zeros ('1e-9', as Timeloop writes)."""
    if not math.isfinite(value):
        return dumper.represent_float(value)
    return dumper.represent_scalar("tag:yaml.org,2002:float", re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(value)))


_Dumper.add_representer(Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style='"'))
_Dumper.add_representer(Tagged, lambda d, v: d.represent_mapping(v.tag, dict(v)))
_Dumper.add_representer(tuple, lambda d, v: d.represent_list(list(v)))
_Dumper.add_representer(float, _float)
# YAML 1.2 reads '1e-9' as a float (Timeloop's yaml-cpp, timeloopfe's ruamel): let it be written plain.
_Dumper.add_implicit_resolver("tag:yaml.org,2002:float", _YAML12_FLOAT, list("-+0123456789"))


def dump(document: dict) -> str:
    """`document` (plain dicts, lists, scalars; `Flow`/`FlowMap`/`Quoted` where Timeloop writes them so) as YAML."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1 << 20,
                     allow_unicode=True)
