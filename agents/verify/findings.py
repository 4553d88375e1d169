"""Verifier findings and the rule catalogue (RULES.md): severity, what it checks, how to fix it."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, TypedDict

Severity = Literal["E", "W"]

# id: (severity, what it checks, hint to fix)
RULES: dict[str, tuple[Severity, str, str]] = {
    "R1": ("E", "file name", "name the file {folder}/{repo}_{Name}.md with Name = [A-Za-z0-9]+(_[A-Za-z0-9]+)*"),
    "R2": ("E", "wiki layout", "keep only pages in the five page folders and only index files, _reports/ and kapso scratch at the root"),
    "R3": ("E", "title line", "make line 1 '# {Type}: {Name}' with Name the file stem without the repo prefix"),
    "R4": ("E", "MediaWiki markup", "use == headings ==, '''bold''' and <syntaxhighlight>, not Markdown"),
    "R5": ("W", "heading form", "write '== Text ==' alone on its line, followed by a blank line"),
    "R6": ("E", "section skeleton", "use the page type's level-2 sections in order, with their required subsections"),
    "R7": ("E", "code blocks", "open with <syntaxhighlight lang=\"python\"> or lang=\"bash\" and close every block once"),
    "R8": ("E", "python parses", "fix the Python syntax of the block"),
    "R9": ("E", "metadata block", "put the metadata wikitable right after the title with rows Knowledge Sources, Domains, Last Updated"),
    "R10": ("E", "knowledge sources", "add [[source::Kind|Title|https://...]] with Kind Repo, Doc, Paper or Blog"),
    "R11": ("E", "no paths in metadata", "move file paths and line numbers to == Code Reference ==; cite the repository root only"),
    "R12": ("E", "domains", "add [[domain::Tag]] tags made of letters, digits and '_'"),
    "R13": ("E", "timestamp", "write one [[last_updated::YYYY-MM-DD HH:MM GMT]] that is a real, past UTC time"),
    "R14": ("E", "link targets exist", "create the target page or fix the link"),
    "R15": ("E", "allowed edges", "use only the edges of WIKI_FORMAT §5 (never realized_by)"),
    "R16": ("E", "one implementation per principle", "give the Principle exactly one [[implemented_by::Implementation:…]] link"),
    "R17": ("E", "one principle per implementation, mutually", "give the Implementation exactly one [[implements::Principle:…]] link, mirrored by that Principle"),
    "R18": ("E", "workflow steps", "number steps 1..n, put the step link (or, for a pending step, ''Pending: not yet documented.'') first under each step, repeat the links in order under Related Pages, one diagram node per step"),
    "R19": ("E", "no orphan principle", "link the Principle from a Workflow step or remove it"),
    "R20": ("E", "backlinks mirror forward links", "remove the backlink or add the forward link on its target"),
    "R21": ("E", "shared API naming", "name pages for one API {repo}_{API} and {repo}_{API}_{context}"),
    "R22": ("E", "source location", "write exactly the Repository, File (repository-relative) and Lines (L{start}-{end}) bullets"),
    "R23": ("E", "line range", "cite the def/class line (decorators excluded) to the symbol's last line, as ast gives them"),
    "R24": ("E", "signature", "copy the canonical signature from the source (decorators, owning class header, dataclass fields)"),
    "R25": ("E", "import", "import the symbol (or its class) from the package root when it is exported there, else from its module"),
    "R26": ("E", "inputs table", "list the real parameters with their annotation, Required Yes exactly when there is no default, and 'Default: `…`.' once, at the end (drop the source's own 'defaults to …')"),
    "R27": ("E", "outputs table", "make the first Outputs row's Type the return annotation (or the class name)"),
    "R28": ("E", "examples import real names", "import only modules and names that exist in the package"),
    "R29": ("E", "index agrees with page", "regenerate _ImplementationIndex.md from the pages"),
    "R30": ("E", "wrapper doc", "use a Library bullet instead of File/Lines; drop a Signature that was not checked against the installed package"),
    "R31": ("E", "sub-type skeleton", "add the headings of the Implementation sub-type"),
    "R32": ("E", "no code in workflows", "describe steps in prose; code belongs on Implementation pages"),
    "R33": ("E", "one-sentence overview", "write the Overview as a single sentence"),
    "R34": ("E", "library-neutral principle overview", "describe the concept without library, package or API names"),
    "R35": ("E", "theoretical basis is not library code", "write maths or abstract pseudocode, not the library's code or imports"),
    "R36": ("E", "no secrets", "remove the credential; name variables only"),
    "R37": ("E", "index exists", "generate the index file for the folder"),
    "R38": ("E", "index rows match files", "regenerate the index from the pages on disk"),
    "R39": ("E", "index row shape", "use the header of WIKI_FORMAT §6, File cells [→](./{folder}/{page}.md), rows sorted by page name"),
    "R40": ("E", "connection tokens", "regenerate the tokens from the pages' links"),
    "R41": ("E", "sub-type in notes", "start Notes with API Doc, Wrapper Doc, Pattern Doc or External Tool Doc followed by ' - '"),
    "R42": ("E", "usable WorkflowIndex", "fix the WorkflowIndex at the line given"),
    "R43": ("E", "1:1 in the plan", "give an API shared by two Principles a context-specific Implementation name"),
    "R44": ("E", "status is earned", "mark a step ✅ only when both of its pages exist and pass every rule"),
    "R50": ("E", "prose names real APIs", "name in prose (back-ticked or not) only APIs the source or its imports define; drop the invented one"),
    "R45": ("E", "examples are self-contained", "bind every name the example uses: import it, build it, or write `model = ...  # a loaded causal LM` for an object the reader supplies; keep return/yield/await inside a def"),
    "R46": ("E", "example calls bind", "call the documented API with arguments its signature accepts: no unknown keyword, no missing required argument, no extra positional"),
    "R47": ("W", "no unused import", "remove the import the example never uses, or use it"),
    "R48": ("E", "parameter docs from the source", "describe the parameter from its docstring entry (the class's, __init__'s or a base's) or its dataclass field help; say 'undocumented' only when the source says nothing"),
    "R49": ("E", "no boilerplate", "say what is specific to this page: no text shared with two other pages once names are set aside, no placeholder maths (y = f(x), a lone letter) or words in <math>, no sentence said twice"),
}


def rules_markdown() -> str:
    """docs/rules.md: the rule table as the verifier holds it (a test keeps the file equal to this)."""
    out = ["# Verifier rules", "",
           "Generated from `agents/verify/findings.py` (`RULES`); `tests/test_docs.py` fails when the two differ.",
           "E = error: the page is repaired or held, never committed. W = warning: reported only.", "",
           "| Rule | Severity | Checks | How to fix |", "|------|----------|--------|------------|"]
    for rid, (sev, what, hint) in RULES.items():
        out.append(f"| {rid} | {sev} | {what} | {hint.replace('|', '&#124;')} |")
    return "\n".join(out) + "\n"


class FindingRecord(TypedDict):
    """A finding as the run stores it (state, drafts' findings, the report's JSON)."""
    rule: str
    severity: Severity
    page: str
    line: int | None
    message: str
    hint: str


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    page: str  # path relative to the wiki root
    line: int | None
    message: str
    hint: str

    def as_dict(self) -> FindingRecord:
        return FindingRecord(**asdict(self))  # type: ignore[typeddict-item]  # asdict is untyped

    def __str__(self) -> str:
        where = f"{self.page}:{self.line}" if self.line else self.page
        return f"{where}: {self.rule} [{self.severity}] {self.message} (fix: {self.hint})"


def finding(rule: str, page: str, line: int | None, message: str) -> Finding:
    severity, _, hint = RULES[rule]
    return Finding(rule, severity, page, line, message, hint)
