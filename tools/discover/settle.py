"""Calls the miner could not place (a method reached through ``__getattr__``, an object of unknown
class), placed by the run's own locator, and the families of APIs (sibling classes share one).
"""

from __future__ import annotations

from tools.discover import naming
from tools.discover.attributes import api_call
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.locate import Locator
from tools.usage.miner import SymbolKey, UsageRecord, symbol_key
from tools.wiki.workflow_index import Step


def _probe(repo: str, api_call_text: str, member: str, receiver: str | None) -> tuple[Step, list[Step]]:
    """A step as a WorkflowIndex would give it, to ask the locator where a call goes."""

    def step(n: int, outputs: str | None, call: str | None) -> Step:
        return Step(
            workflow=f"{repo}_Probe",
            number=n,
            title="probe",
            principle=f"{repo}_Probe_{n}",
            implementation=f"{repo}_{naming.implementation('x:' + member) or 'Probe'}",
            api_call=call,
            source_hint=None,
            external_deps=(),
            environment=None,
            key_parameters=None,
            inputs=None,
            outputs=outputs,
            status=None,
            impl_type="API Doc",
            guide_api=None,
            line=0,
            status_line=None,
        )

    earlier = [step(1, f"a {receiver}", None)] if receiver else []
    return step(2, None, api_call_text), earlier


class Settler:
    """Calls the miner could not place (a method reached through ``__getattr__``, an object of
    unknown class), placed by the run's own locator: kept only when it is confident."""

    def __init__(self, ws: Workspace, locator: Locator) -> None:
        self.ws, self.locator = ws, locator
        self.memo: dict[tuple[str | None, str, tuple[str, ...]], SymbolKey | None] = {}

    def __call__(self, rec: UsageRecord) -> SymbolKey | None:
        member = rec["member"] or ""
        # the keywords a call passes tell overloads of one name apart (LoraModel's add_weighted_adapter
        # takes combination_type, IA3Model's does not): one question per receiver, name and keywords
        key = (rec["receiver_type"], member, tuple(sorted(rec["keywords"])))
        if key not in self.memo:
            receiver = rec["receiver_type"].split(":")[-1].split(".")[-1] if rec["receiver_type"] else None
            step, earlier = _probe(self.ws.source.repo, api_call(rec), member, receiver)
            loc = self.locator.locate(step, earlier)
            ok = loc.kind == "internal" and loc.confident and loc.symbol is not None and loc.symbol.name == member
            self.memo[key] = symbol_key(loc.symbol) if ok and loc.symbol is not None else None
        return self.memo[key]


def roles(ws: Workspace, apis: set[str]) -> dict[str, str]:
    """An API's family: a class's topmost base in the repository (sibling config classes share
    one), a method by its class's family and its name."""

    def family(cls: Symbol) -> str:
        mro = [c for c in ws.names.mro(cls) if c.kind == "class"]
        top = mro[-1] if len(mro) > 1 else cls
        return f"{top.module}:{top.qualname}"

    out: dict[str, str] = {}
    for api in apis:
        if ":" not in api:
            continue
        module, qualname = api.split(":", 1)
        sym = ws.index.definition(module, qualname)
        if sym is None:
            continue
        if sym.kind == "class":
            out[api] = family(sym)
        elif sym.kind == "method" and sym.parent:
            owner = ws.index.definition(module, sym.parent)
            if owner is not None:
                out[api] = f"{family(owner)}.{sym.name}"
    return out
