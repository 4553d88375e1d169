"""Name resolution over an Index: what a module binds, the import a user writes, inheritance.

Everything is static (no import of the analysed code): re-exports are followed through
``from .x import Y``, star imports, ``__all__`` and lazy tables (``_import_structure``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from tools.index.build import Index
from tools.index.records import FileRecord, Symbol

_MAX_DEPTH = 24


@dataclass(frozen=True)
class ModuleRef:
    module: str


Target = Symbol | ModuleRef


class Names:
    def __init__(self, index: Index) -> None:
        self.index = index
        self._memo: dict[tuple[str, str], Target | None] = {}
        self._public_memo: dict[str, set[str]] = {}

    # ---- binding resolution ---------------------------------------------------------
    def resolve(
        self, module: str, name: str, _depth: int = 0, _seen: frozenset[tuple[str, str]] = frozenset()
    ) -> Target | None:
        """What ``name`` is bound to at the top level of ``module`` (a definition or a module)."""
        key = (module, name)
        if key in self._memo:
            return self._memo[key]
        if _depth > _MAX_DEPTH or key in _seen:
            return None
        seen = _seen | {key}
        result = self._resolve(module, name, _depth, seen)
        self._memo[key] = result
        return result

    def _resolve(self, module: str, name: str, depth: int, seen: frozenset[tuple[str, str]]) -> Target | None:
        rec = self.index.modules.get(module)
        if rec is None:
            return None
        direct = self.index.definition(module, name)
        if direct is not None:
            return direct
        star_sources: list[str] = []
        for b in reversed(rec.bindings):
            if b.name == "*":
                star_sources.append(b.module)
                continue
            if b.name != name:
                continue
            if b.attr is None:
                return ModuleRef(b.module) if b.module in self.index.modules else None
            target = self.resolve(b.module, b.attr, depth + 1, seen)
            if target is not None:
                return target
            sub = f"{b.module}.{b.attr}"
            if sub in self.index.modules:
                return ModuleRef(sub)
        if rec.is_package and f"{module}.{name}" in self.index.modules and name in self._public_names(rec):
            return ModuleRef(f"{module}.{name}")
        if not name.startswith("_"):
            for src in star_sources:
                src_rec = self.index.modules.get(src)
                if src_rec is not None and name in self._public_names(src_rec):
                    target = self.resolve(src, name, depth + 1, seen)
                    if target is not None:
                        return target
        return None

    def _public_names(self, rec: FileRecord, _seen: frozenset[str] = frozenset()) -> set[str]:
        """Names ``from module import *`` binds: ``__all__``, else public names, star imports included."""
        if rec.all_names is not None:
            return set(rec.all_names)
        cached = self._public_memo.get(rec.module)
        if cached is not None:
            return cached
        names = {s.qualname for s in rec.symbols if "." not in s.qualname}
        names.update(b.name for b in rec.bindings if b.name != "*")
        names.update(rec.assignments)
        seen = _seen | {rec.module}
        for b in rec.bindings:
            src = self.index.modules.get(b.module) if b.name == "*" and b.module not in seen else None
            if src is not None:
                names.update(self._public_names(src, seen))
        out = {n for n in names if not n.startswith("_")}
        if not _seen:
            self._public_memo[rec.module] = out
        return out

    def resolve_dotted(self, module: str, dotted: str) -> Target | None:
        """Resolve ``a.b.C`` as written in ``module`` (``nn.Module``, ``tuners_utils.BaseTuner``)."""
        head, *rest = dotted.split(".")
        target = self.resolve(module, head)
        for part in rest:
            if isinstance(target, ModuleRef):
                target = self.resolve(target.module, part)
            elif isinstance(target, Symbol) and target.kind == "class":
                target = self.member(target, part)
            else:
                return None
        return target

    # ---- exports and imports ----------------------------------------------------------
    @cached_property
    def packages(self) -> list[str]:
        """Top-level packages of the tree (modules without a dot that are packages)."""
        return sorted(m for m, r in self.index.modules.items() if "." not in m and r.is_package)

    def exports(self, module: str) -> dict[str, Target]:
        """Every public name ``from {module} import NAME`` gives, resolved."""
        rec = self.index.modules.get(module)
        if rec is None:
            return {}
        names = self._public_names(rec) if rec.all_names is None else set(rec.all_names)
        names.update(b.name for b in rec.bindings if b.lazy)
        for b in rec.bindings:
            if b.name == "*":
                src = self.index.modules.get(b.module)
                if src is not None:
                    names.update(self._public_names(src))
        out: dict[str, Target] = {}
        for n in sorted(names):
            t = self.resolve(module, n)
            if t is not None:
                out[n] = t
        return out

    def owner(self, sym: Symbol) -> Symbol | None:
        """The module-level definition a user imports to reach ``sym`` (its class, for a method)."""
        if "<locals>" in sym.qualname:
            return None
        top = sym.qualname.split(".")[0]
        return sym if top == sym.qualname else self.index.definition(sym.module, top)

    def canonical_import(self, sym: Symbol) -> str | None:
        """RULES.md's canonical import: from the top package when it binds the same definition,
        else from the defining module. None for symbols that cannot be imported (nested in a function)."""
        owner = self.owner(sym)
        if owner is None:
            return None
        package = sym.module.split(".")[0]
        if _same(self.resolve(package, owner.name), owner):
            return f"from {package} import {owner.name}"
        return f"from {sym.module} import {owner.name}"

    def public_modules(self, sym: Symbol) -> list[str]:
        """Public modules (no ``_`` component) that bind ``sym``'s owner, shortest first."""
        owner = self.owner(sym)
        if owner is None:
            return []
        out: list[str] = []
        for mod, rec in self.index.modules.items():
            if any(p.startswith("_") for p in mod.split(".")):
                continue
            if (rec.is_package or mod == owner.module) and _same(self.resolve(mod, owner.name), owner):
                out.append(mod)
        return sorted(out, key=lambda m: (m.count("."), len(m), m))

    # ---- inheritance ----------------------------------------------------------------
    def bases(self, cls: Symbol) -> list[Symbol]:
        out: list[Symbol] = []
        for text in cls.bases:
            head = text.split("[", 1)[0].strip()  # Generic[T] -> Generic
            t = self.resolve_dotted(cls.module, head) if head.replace(".", "").replace("_", "").isalnum() else None
            if isinstance(t, Symbol) and t.kind == "class" and not _same(t, cls):
                out.append(t)
        return out

    def mro(self, cls: Symbol) -> list[Symbol]:
        """C3 linearisation over the bases found in the index (bases from other packages are skipped)."""
        return _c3(cls, self.bases, set())

    def member(self, cls: Symbol, name: str) -> Symbol | None:
        """Where ``cls.name`` is really defined, following the MRO."""
        for klass in self.mro(cls):
            found = self.index.definition(klass.module, f"{klass.qualname}.{name}")
            if found is not None:
                return found
        return None

    @cached_property
    def subclasses(self) -> dict[tuple[str, str], list[Symbol]]:
        """Direct subclasses of each class, keyed by (module, qualname)."""
        out: dict[tuple[str, str], list[Symbol]] = {}
        for s in self.index.symbols:
            if s.kind == "class" and s.bases:
                for b in self.bases(s):
                    out.setdefault((b.module, b.qualname), []).append(s)
        return out


def _same(a: Target | None, b: Symbol) -> bool:
    return isinstance(a, Symbol) and (a.file, a.qualname, a.start_line) == (b.file, b.qualname, b.start_line)


def _c3(cls: Symbol, bases_of: Callable[[Symbol], list[Symbol]], visiting: set[tuple[str, str]]) -> list[Symbol]:
    key = (cls.file, cls.qualname)
    if key in visiting:  # a cycle in the source (or in our resolution): stop here
        return [cls]
    visiting = visiting | {key}
    bases = bases_of(cls)
    seqs = [_c3(b, bases_of, visiting) for b in bases] + [list(bases)]
    result = [cls]
    seqs = [list(s) for s in seqs if s]
    while seqs:
        for seq in seqs:
            head = seq[0]
            hk = (head.file, head.qualname)
            if not any(hk in {(x.file, x.qualname) for x in s[1:]} for s in seqs):
                break
        else:  # inconsistent hierarchy: fall back to depth-first, left to right
            rest = [s for seq in seqs for s in seq]
            seen = {(c.file, c.qualname) for c in result}
            for c in rest:
                if (c.file, c.qualname) not in seen:
                    result.append(c)
                    seen.add((c.file, c.qualname))
            return result
        result.append(head)
        seqs = [[x for x in s if (x.file, x.qualname) != hk] for s in seqs]
        seqs = [s for s in seqs if s]
    return result
