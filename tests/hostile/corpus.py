"""Bad documents a careless user or a prober sends: bombs, deep nesting, huge numbers, wrong
types, bad encodings, empty files, unknown codes. Each is refused with a located error."""

from __future__ import annotations

from dataclasses import dataclass

HEAD = "apiVersion: tongchou.io/v1\n"


@dataclass(frozen=True, slots=True)
class Bad:
    """One hostile input: its bytes, and a phrase its error message must hold."""

    id: str
    data: bytes
    expect: str


def laughs(levels: int, kind: str = "Workload") -> str:
    """Nested anchors, each level nine aliases of the one before, inside a document."""
    text = HEAD + f"kind: {kind}\nmetadata: {{name: bomb}}\nspec:\n"
    text += '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels + 1):
        text += f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
    return text


def workload(spec: str = "", owner: str = '"440100"', extra: str = "") -> str:
    """A workload document; `spec` lines replace the defaults they name."""
    fields = {
        "owner": owner,
        "replicas": "2",
        "image": "reg/app:1",
        "mlpsLevel": "3",
        "resources": "{cpu: 1, memory: 1Gi}",
    }
    for line in spec.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    body = "".join(f"  {k}: {v}\n" for k, v in fields.items())
    return HEAD + f"kind: Workload\nmetadata: {{name: w}}\n{extra}spec:\n{body}"


def policy(spec: str) -> str:
    return HEAD + f"kind: PlacementPolicy\nmetadata: {{name: p}}\nspec:\n{spec}"


def _b(text: str) -> bytes:
    return text.encode("utf-8")


CORPUS: tuple[Bad, ...] = (
    Bad("alias-bomb-7", _b(laughs(7)), "after aliases are expanded"),
    Bad("alias-bomb-8", _b(laughs(8)), "after aliases are expanded"),
    Bad(
        "merge-bomb",
        _b(
            HEAD
            + "a: &a {x: 1, y: 2}\nb: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a]}\n"
            + "kind: Workload\nmetadata: {name: m}\n"
            + "spec: {<<: [*b, *b, *b, *b, *b, *b, *b, *b], owner: 1}\n"
        ),
        "",
    ),
    Bad("recursive-alias", _b(HEAD + "kind: Workload\nmetadata: &m {name: [*m]}\n"), "recursive"),
    Bad("deep-flow", _b(workload(extra="x: " + "[" * 80 + "]" * 80 + "\n")), "nesting deeper"),
    Bad("very-deep-flow", _b(workload(extra="x: " + "[" * 20000 + "]" * 20000 + "\n")), "bad YAML"),
    Bad("memory-16Ei", _b(workload("resources: {cpu: 1, memory: 16Ei}")), "at most 64Ti"),
    Bad("cpu-1e20", _b(workload("resources: {cpu: 100000000000000000000, memory: 1Gi}")), "65536"),
    Bad("replicas-huge", _b(workload("replicas: " + "9" * 4000)), "must be 0 to 10000"),
    Bad("replicas-digits", _b(workload("replicas: " + "9" * 5000)), "bad YAML value"),
    Bad("replicas-1e308", _b(workload("replicas: 1e308")), "must be an integer"),
    Bad("replicas-text", _b(workload("replicas: three")), "must be an integer"),
    Bad("replicas-nan", _b(workload("replicas: .nan")), "must be an integer"),
    Bad("weight-inf", _b(policy("  prefer: '1.0'\n  weight: .inf\n")), "finite"),
    Bad("weight-1e999", _b(policy("  prefer: '1.0'\n  weight: 1e999\n")), "too large"),
    Bad("owner-bool", _b(workload(owner="true")), "division code"),
    Bad("owner-list", _b(workload(owner="[440100]")), "division code"),
    Bad("owner-float", _b(workload(owner="440100.0")), "division code"),
    Bad("owner-unknown", _b(workload(owner="990000")), "not in the national division table"),
    Bad("owner-unknown-city", _b(workload(owner="440399")), "440300 深圳市"),
    Bad("date-field", _b(workload(extra="note: 2020-13-45\n")), 'unknown field "note"'),
    Bad("date-image", _b(workload("image: 2020-01-01") + "  chips: [2020-13-45]\n"), ""),
    Bad("spec-scalar", _b(HEAD + "kind: Workload\nmetadata: {name: w}\nspec: 5\n"), "mapping"),
    Bad("top-level-list", _b("- 1\n- 2\n"), "must be a mapping"),
    Bad("python-tag", _b(workload(extra="x: !!python/object:os.system {}\n")), "unsupported"),
    Bad("binary-tag", _b(workload("image: !!binary aGVsbG8=")), "must be a string"),
    Bad("duplicate-key", _b(workload() + "  owner: '440100'\n"), "duplicate key"),
    Bad("int-key", _b(workload(extra="1: 2\n")), "keys must be strings"),
    Bad("latin-1", "kind: Workload\n# café\n".encode("latin-1"), "not UTF-8"),
    Bad("utf-16", workload().encode("utf-16"), "not UTF-8"),
    Bad("nul-byte", _b(workload(extra="x: \0\n")), "character U+0000 is not allowed"),
    Bad("empty", b"", "holds no documents"),
    Bad("comments-only", b"# a comment\n\n# another\n", "holds no documents"),
    Bad("separators-only", b"---\n---\n...\n", "holds no documents"),
    Bad("unterminated", _b(workload(extra='x: "open\n')), "bad YAML"),
    Bad("long-name", _b(workload().replace("{name: w}", "{name: " + "w" * 5000 + "}")), "at most"),
)
"""The corpus; an empty `expect` asks only for a refusal."""
