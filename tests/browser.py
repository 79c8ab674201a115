"""What every browser test watches: Content-Security-Policy violations (and, where asked, every console message and
every request's origin). `watch(context)` before the first page; `assert report.csp_violations == []` at the end."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Runs in every page before its own scripts: the browser's violation events reach the test through a binding.
_LISTEN = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
    + (event.sample ? ` (${event.sample})` : ""));
}, true);
"""


@dataclass
class BrowserReport:
    csp_violations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # answers of 400 and above

    def foreign_requests(self, origin: str) -> list[str]:
        """Requests that left `origin` (data: and blob: URLs are not requests to anyone)."""
        base = urlsplit(origin)
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url)[:2] != base[:2]
        ]


def watch(context) -> BrowserReport:
    """Record the CSP violations, console messages and requests of every page of a Playwright browser context."""
    report = BrowserReport()
    context.expose_binding("__cspViolation", lambda _source, text: report.csp_violations.append(text))
    context.add_init_script(_LISTEN)
    context.on(
        "console",
        lambda message: report.console.append(f"{message.type}: {message.text} ({message.location.get('url')})"),
    )
    context.on("weberror", lambda error: report.console.append(f"uncaught: {error.error}"))
    context.on("request", lambda request: report.requests.append(request.url))
    context.on(
        "response",
        lambda response: response.status >= 400 and report.errors.append(f"{response.status} {response.url}"),
    )
    return report
