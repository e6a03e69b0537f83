"""Source-level mutants of Swift code (issue 13 §2; docs/Mutation.md).

A small tokenizer (comments, strings, numbers, identifiers, operators) and a
precedence-aware operand scan find each mutation site and the extent of the
expression it changes. Each mutant is rendered as a *schema*: the expression
becomes `(adarMutantADAR(ID) ? mutated : original)`, so one build holds every
mutant and the test process picks one at run time (docs/Mutation.md says why).

Standard library only.
"""

from __future__ import annotations

import dataclasses
import platform
import re

# Swift's binary operators by precedence group (higher binds tighter).
PRECEDENCE = {
    "<<": 160, ">>": 160, "&<<": 160, "&>>": 160,
    "*": 150, "/": 150, "%": 150, "&*": 150, "&": 150,
    "+": 140, "-": 140, "&+": 140, "&-": 140, "|": 140, "^": 140,
    "..<": 135, "...": 135,
    "??": 131,
    "<": 130, "<=": 130, ">": 130, ">=": 130, "==": 130, "!=": 130, "===": 130, "!==": 130, "~=": 130,
    "&&": 120,
    "||": 110,
    "?": 100,  # the ternary conditional
    "=": 90, "+=": 90, "-=": 90, "*=": 90, "/=": 90, "%=": 90, "&=": 90, "|=": 90, "^=": 90,
    "<<=": 90, ">>=": 90, "&+=": 90, "&-=": 90, "&*=": 90,
}
RIGHT_ASSOCIATIVE = {"?", "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "&+=", "&-=", "&*=", "??"}
OPERATOR_CHARS = set("/=-+!*%<>&|^~?.")
# Keywords that end an operand scan (a statement or declaration starts there).
STOP_WORDS = {
    "let", "var", "return", "if", "guard", "else", "for", "in", "while", "repeat", "switch", "case", "default",
    "where", "func", "throw", "throws", "rethrows", "try", "await", "defer", "do", "catch", "break", "continue",
    "import", "struct", "enum", "class", "extension", "protocol", "static", "public", "package", "private",
    "fileprivate", "internal", "init", "inout", "some", "any", "is", "as", "mutating", "@inlinable",
}

RELATIONAL = {"<": ["<="], "<=": ["<"], ">": [">="], ">=": [">"], "==": ["!="], "!=": ["=="]}
ARITHMETIC = {"+": ["-"], "-": ["+"], "*": ["/"], "/": ["*"], "&+": ["&-"], "&-": ["&+"], "&*": ["&+"],
              "^": ["|"], "&": ["|"], "|": ["&"], "<<": [">>"], ">>": ["<<"], "%": ["*"]}
LOGICAL = {"&&": ["||"], "||": ["&&"]}
# Operators whose operands are swapped ("swapped operands"); the others commute or were flipped above.
SWAPPABLE = {"-", "/", "&-", "<<", ">>"}
# `a + b` → `a` ("dropped term"); `a * b` → `a` ("dropped factor").
DROPPABLE = {"+", "-", "&+", "&-", "*", "/", "&*"}
COMPOUND_DROPPABLE = {"+=", "-=", "&+=", "&-="}
FUNCTION_SWAPS = {"max": "min", "min": "max", "floor": "ceil", "ceil": "floor"}


@dataclasses.dataclass
class Token:
    kind: str  # "id", "num", "op", "punct", "str", "kw"
    text: str
    start: int
    end: int
    space_before: bool
    space_after: bool = False


@dataclasses.dataclass
class Mutant:
    file: str
    line: int
    column: int
    operator: str
    original: str  # the source text of the changed expression
    replacement: str  # the expression as the mutant has it
    span: tuple[int, int]  # offsets of `original` in the file
    source_line: str  # the whole line, stripped: equivalents are matched by it
    id: int = 0
    occurrence: int = 1  # the same change on an identical line earlier in the file makes this 2, …

    def key(self) -> str:
        """Stable identity without line numbers: the equivalents file matches on it."""
        line = self.source_line + (f" (occurrence {self.occurrence})" if self.occurrence > 1 else "")
        return f"{self.file} | {self.operator} | {_one_line(self.original)} → {_one_line(self.replacement)} | {line}"

    def label(self) -> str:
        return f"{self.file}:{self.line}:{self.column} {self.operator}: {_one_line(self.original)} → {_one_line(self.replacement)}"


def _one_line(code: str) -> str:
    return " ".join(code.split())


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)

    def add(kind: str, start: int, end: int) -> None:
        before = start == 0 or text[start - 1] in " \t\n\r" or (
            tokens and text[tokens[-1].end:start].strip() == "" and tokens[-1].end != start)
        if tokens:
            tokens[-1].space_after = tokens[-1].end != start or text[start - 1] in " \t\n\r"
        tokens.append(Token(kind, text[start:end], start, end, before))

    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            if tokens:
                tokens[-1].space_after = True
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            i = j
            if tokens:
                tokens[-1].space_after = True
        elif c == '"':
            j = _string_end(text, i)
            add("str", i, j)
            i = j
        elif c.isdigit():
            m = re.compile(r"0x[0-9A-Fa-f_]+(\.[0-9A-Fa-f_]+)?[pP][-+]?[0-9]+|0x[0-9A-Fa-f_]+|0b[01_]+|[0-9][0-9_]*(\.[0-9][0-9_]*)?([eE][-+]?[0-9]+)?").match(text, i)
            add("num", i, m.end())
            i = m.end()
        elif c.isalpha() or c in "_$@`#":
            m = re.compile(r"[@#]?`?[A-Za-z_$0-9]+`?").match(text, i)
            word = m.group(0)
            add("kw" if word in STOP_WORDS else "id", i, m.end())
            i = m.end()
        elif c in OPERATOR_CHARS:
            j = i
            while j < n and text[j] in OPERATOR_CHARS and not text.startswith("//", j) and not text.startswith("/*", j):
                j += 1
            if text[i] == "." and text[i:j] not in ("...", "..<"):
                j = i + 1  # member access
            add("op", i, j)
            i = j
        else:
            add("punct", i, i + 1)
            i += 1
    if tokens:
        tokens[-1].space_after = True
    return tokens


def _string_end(text: str, i: int) -> int:
    """The offset after the string literal opening at `i` (plain or multi-line, with interpolations)."""
    if text.startswith('"""', i):
        j = text.find('"""', i + 3)
        return len(text) if j < 0 else j + 3
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            if j + 1 < len(text) and text[j + 1] == "(":
                depth, j = 1, j + 2
                while j < len(text) and depth:
                    if text[j] == '"':
                        j = _string_end(text, j)
                        continue
                    depth += {"(": 1, ")": -1}.get(text[j], 0)
                    j += 1
                continue
            j += 2
            continue
        if text[j] == '"':
            return j + 1
        if text[j] == "\n":
            return j
        j += 1
    return j


OPEN, CLOSE = {"(": ")", "[": "]"}, {")": "(", "]": "["}


def _is_binary(tok: Token) -> bool:
    """Swift's rule: whitespace on both sides (or neither) makes an operator binary; we require both."""
    return tok.kind == "op" and tok.text in PRECEDENCE and tok.space_before and tok.space_after


def _depth(t: Token) -> int:
    """+1 for an opening bracket, −1 for a closing one, 0 otherwise."""
    if t.kind == "punct" and t.text in OPEN:
        return 1
    return -1 if t.kind == "punct" and t.text in CLOSE else 0


def _match(tokens: list[Token], i: int, step: int) -> int:
    """Index of the bracket matching the one at `i`, scanning forward (step 1) or backward (−1)."""
    depth, j = 0, i
    while 0 <= j < len(tokens):
        depth += _depth(tokens[j]) * step
        if depth == 0:
            return j
        j += step
    return len(tokens) - 1 if step > 0 else 0


def _match_forward(tokens: list[Token], i: int) -> int:
    return _match(tokens, i, 1)


def _match_backward(tokens: list[Token], i: int) -> int:
    return _match(tokens, i, -1)


def _unit_forward(tokens: list[Token], i: int) -> int | None:
    """The last token of the postfix expression starting at `i` (prefix operators, an atom, calls,
    subscripts, members), or None when no operand starts there."""
    j = i
    while j < len(tokens) and tokens[j].kind == "op" and tokens[j].text in ("-", "!", "~", ".") and not tokens[j].space_after:
        j += 1
    if j >= len(tokens):
        return None
    t = tokens[j]
    if t.kind in ("id", "num", "str"):
        end = j
    elif t.kind == "punct" and t.text in OPEN:
        end = _match_forward(tokens, j)
    else:
        return None
    while end + 1 < len(tokens):
        nxt = tokens[end + 1]
        if nxt.kind == "punct" and nxt.text in OPEN and not nxt.space_before:
            end = _match_forward(tokens, end + 1)
        elif nxt.kind == "op" and nxt.text == "." and end + 2 < len(tokens) and tokens[end + 2].kind in ("id", "num"):
            end += 2
        elif nxt.kind == "op" and nxt.text in ("!", "?") and not nxt.space_before and not _is_binary(nxt):
            end += 1
        else:
            break
    return end


def _unit_backward(tokens: list[Token], i: int) -> int | None:
    """The first token of the postfix expression ending at `i`, or None."""
    j = i
    while True:
        t = tokens[j]
        if t.kind == "punct" and t.text in CLOSE:
            j = _match_backward(tokens, j)
            # A call or subscript continues to the left; a parenthesised or literal group does not.
            if j > 0 and not tokens[j].space_before and tokens[j - 1].kind in ("id", "punct") and (
                    tokens[j - 1].kind == "id" or tokens[j - 1].text in CLOSE):
                j -= 1
                continue
        elif t.kind in ("id", "num", "str"):
            if j >= 2 and tokens[j - 1].kind == "op" and tokens[j - 1].text == "." and not tokens[j - 1].space_before:
                j -= 2
                continue
        elif t.kind == "op" and t.text in ("!", "?") and not t.space_before and j > 0:
            j -= 1
            continue
        else:
            return None
        break
    while j > 0 and tokens[j - 1].kind == "op" and tokens[j - 1].text in ("-", "!", "~", ".") and not tokens[j - 1].space_after \
            and (j - 1 == 0 or tokens[j - 1].space_before or tokens[j - 2].kind == "punct"):
        j -= 1
    return j


def _operand_right(tokens: list[Token], i: int, precedence: int, right_assoc: bool) -> int | None:
    """Last token of the right operand of a binary operator at token `i - 1`."""
    end = _unit_forward(tokens, i)
    if end is None:
        return None
    while end + 1 < len(tokens):
        op = tokens[end + 1]
        if not _is_binary(op):
            break
        p = PRECEDENCE[op.text]
        if p > precedence or (p == precedence and right_assoc):
            if op.text == "?":
                colon = _ternary_colon(tokens, end + 2)
                if colon is None:
                    return None
                nxt = _operand_right(tokens, colon + 1, p, True)
            else:
                nxt = _operand_right(tokens, end + 2, p, op.text in RIGHT_ASSOCIATIVE)
            if nxt is None:
                return None
            end = nxt
        else:
            break
    return end


def _ternary_colon(tokens: list[Token], i: int) -> int | None:
    """Index of the `:` of a ternary whose `?` precedes token `i`, or None when a statement ends first."""
    depth = 0
    for j in range(i, len(tokens)):
        t = tokens[j]
        depth += _depth(t)
        if depth < 0:
            return None
        if depth == 0 and t.kind == "punct" and t.text == ":":
            return j
        if depth == 0 and (t.kind == "kw" or (t.kind == "punct" and t.text in "{};,")):
            return None
    return None


def _operand_left(tokens: list[Token], i: int, precedence: int, right_assoc: bool) -> int | None:
    """First token of the left operand of a binary operator at token `i + 1`."""
    start = _unit_backward(tokens, i)
    if start is None:
        return None
    while start - 1 > 0:
        op = tokens[start - 1]
        if not _is_binary(op) or op.text == "?":
            break
        p = PRECEDENCE[op.text]
        if p > precedence or (p == precedence and not right_assoc):
            prev = _operand_left(tokens, start - 2, p, op.text in RIGHT_ASSOCIATIVE)
            if prev is None:
                return None
            start = prev
        else:
            break
    return start


def _grouped(operand: str) -> str:
    """An operand that holds binary operators, parenthesised, so it stays one operand when moved."""
    return f"({operand})" if any(_is_binary(t) for t in tokenize(operand)) else operand


def _nudge_number(text: str) -> list[str]:
    clean = text.replace("_", "")
    if clean.startswith("0x") and "p" in clean.lower():  # a hexadecimal float
        return [(float.fromhex(clean) * 1.01).hex()]
    if clean.startswith(("0x", "0b")):
        value = int(clean, 0)
        return [hex(value + 1)] + ([hex(value - 1)] if value > 0 else [])
    if re.fullmatch(r"[0-9]+", clean):
        value = int(clean)
        return [str(value + 1)] + ([str(value - 1)] if value > 0 else [])
    value = float(clean)
    return [repr(value * 1.01) if value else "0.01"]


def mutants_of(path: str, text: str) -> list[Mutant]:
    """Every mutant of one Swift file, in source order."""
    tokens = tokenize(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found: list[Mutant] = []

    def at(offset: int) -> tuple[int, int]:
        lo, hi = 0, len(line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - line_starts[lo] + 1

    def add(operator: str, start: int, end: int, replacement: str, site: int) -> None:
        line, column = at(site)
        line_text = text[line_starts[line - 1]:text.find("\n", site) if text.find("\n", site) >= 0 else len(text)]
        found.append(Mutant(path, line, column, operator, text[start:end], replacement, (start, end), line_text.strip()))

    def src(a: int, b: int) -> str:
        return text[tokens[a].start:tokens[b].end]

    skip_lines = _declaration_lines(tokens, text)
    for k, t in enumerate(tokens):
        if at(t.start)[0] in skip_lines:
            continue
        if _is_binary(t) and k > 0:
            p, right_assoc = PRECEDENCE[t.text], t.text in RIGHT_ASSOCIATIVE
            if t.text in COMPOUND_DROPPABLE:
                r = _operand_right(tokens, k + 1, p, True)
                if r is not None:
                    add("dropped update", tokens[k + 1].start, tokens[r].end, ".zero", t.start)
                continue
            if t.text not in RELATIONAL and t.text not in ARITHMETIC and t.text not in LOGICAL:
                continue
            left = _operand_left(tokens, k - 1, p, right_assoc)
            right = _operand_right(tokens, k + 1, p, right_assoc)
            if left is None or right is None:
                continue
            a, b = src(left, k - 1), src(k + 1, right)
            start, end = tokens[left].start, tokens[right].end
            for kind, table in (("relational", RELATIONAL), ("arithmetic", ARITHMETIC), ("logical", LOGICAL)):
                for other in table.get(t.text, []):
                    add(kind, start, end, f"{a} {other} {b}", t.start)
            if t.text in SWAPPABLE:
                add("swapped operands", start, end, f"{_grouped(b)} {t.text} {_grouped(a)}", t.start)
            if t.text in DROPPABLE:
                add("dropped term", start, end, a, t.start)
        elif t.kind == "num" and not (k > 0 and tokens[k - 1].kind == "op" and tokens[k - 1].text == "."):
            for other in _nudge_number(t.text):
                add("constant", t.start, t.end, other, t.start)
        elif t.kind == "id" and t.text in ("true", "false"):
            add("constant", t.start, t.end, "false" if t.text == "true" else "true", t.start)
        elif t.kind == "id" and t.text in FUNCTION_SWAPS and k + 1 < len(tokens) and tokens[k + 1].text == "(" \
                and not tokens[k + 1].space_before and not (k > 0 and tokens[k - 1].text == "."):
            close = _match_forward(tokens, k + 1)
            add("function", t.start, tokens[close].end, FUNCTION_SWAPS[t.text] + src(k + 1, close), t.start)
        elif t.kind == "op" and t.text in ("-", "!") and not t.space_after and (
                t.space_before or (k > 0 and tokens[k - 1].kind == "punct" and tokens[k - 1].text in "([,")):
            end = _unit_forward(tokens, k + 1)
            if end is not None:
                add("sign" if t.text == "-" else "logical", t.start, tokens[end].end, src(k + 1, end), t.start)
        elif t.kind == "punct" and t.text == "[" and not t.space_before and k > 0 and (
                tokens[k - 1].kind == "id" or tokens[k - 1].text in ")]"):
            close = _match_forward(tokens, k)
            inner = tokens[k + 1:close]
            if inner and not any(x.text in (",", ":", "..<", "...") or x.kind == "str" for x in inner):
                body = src(k + 1, close - 1)
                for delta in ("+ 1", "- 1"):
                    add("index", tokens[k + 1].start, tokens[close - 1].end, f"{body} {delta}", t.start)
    kept = _nested(found)
    seen: dict[str, int] = {}
    for m in kept:
        first_key = m.key()
        seen[first_key] = seen.get(first_key, 0) + 1
        m.occurrence = seen[first_key]
    return kept


def _nested(found: list[Mutant]) -> list[Mutant]:
    """Drops mutants whose span crosses another's (an operand the scan misread): schemata nest."""
    spans = sorted({m.span for m in found}, key=lambda s: (s[0], -s[1]))
    crossing: set[tuple[int, int]] = set()
    stack: list[tuple[int, int]] = []
    for s in spans:
        while stack and stack[-1][1] <= s[0]:
            stack.pop()
        if stack and s[1] > stack[-1][1]:
            crossing.add(s)
            continue
        stack.append(s)
    return [m for m in found if m.span not in crossing]


def _declaration_lines(tokens: list[Token], text: str) -> set[int]:
    """Lines that hold no expression to mutate: attributes, imports, `case` patterns, comments,
    preconditions — and the branch of `#if arch(…)` this machine does not compile (a mutant there
    could not be built, let alone killed)."""
    lines: set[int] = set()
    machine = {"aarch64": "arm64"}.get(platform.machine(), platform.machine())
    # Per enclosing #if: whether its current branch is compiled here, and whether we could tell
    # (only `arch(…)` is evaluated; other conditions keep both branches).
    stack: list[tuple[bool, bool]] = [(True, False)]
    for i, line in enumerate(text.split("\n"), start=1):
        s = line.strip()
        if s.startswith("#if "):
            arch = re.fullmatch(r"#if arch\((\w+)\)", s)
            stack.append((stack[-1][0] and (arch is None or arch.group(1) == machine), arch is not None))
        elif s.startswith("#else") and len(stack) > 1:
            active, known = stack[-1]
            stack[-1] = (stack[-2][0] and (not active if known else True), known)
        elif s.startswith("#endif") and len(stack) > 1:
            stack.pop()
        if not stack[-1][0] or s.startswith(("@", "import ", "case ", "#", "///", "//", "precondition")):
            lines.add(i)
    return lines


def render_schemata(text: str, mutants: list[Mutant], switch: str) -> tuple[str, dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """The file with every mutant behind `switch(id)`. Returns the text, each mutant's
    span in it, and each mutant's own (mutated) text span in it (to blame compile errors)."""
    by_span: dict[tuple[int, int], list[Mutant]] = {}
    for m in mutants:
        by_span.setdefault(m.span, []).append(m)
    kept = sorted(by_span, key=lambda s: (s[0], -s[1]))  # nested, by _nested
    out: list[str] = []
    schema_spans: dict[int, tuple[int, int]] = {}
    variant_spans: dict[int, tuple[int, int]] = {}

    def emit(lo: int, hi: int, children: list[tuple[int, int]]) -> None:
        pos = lo
        i = 0
        while i < len(children):
            s = children[i]
            j = i + 1
            grandchildren = []
            while j < len(children) and children[j][1] <= s[1]:
                grandchildren.append(children[j])
                j += 1
            out.append(text[pos:s[0]])
            start = sum(map(len, out))
            out.append("(")
            for m in by_span[s]:
                out.append(f"{switch}({m.id}) ? ")
                vstart = sum(map(len, out))
                out.append(f"({m.replacement})")
                variant_spans[m.id] = (vstart, sum(map(len, out)))
                out.append(" : ")
            emit(s[0], s[1], grandchildren)
            out.append(")")
            for m in by_span[s]:
                schema_spans[m.id] = (start, sum(map(len, out)))
            pos = s[1]
            i = j
        out.append(text[pos:hi])

    emit(0, len(text), kept)
    return "".join(out), schema_spans, variant_spans
