"""The sandbox's /browse/<KEY> page: a small HTML view of an issue, as Jira's issue page stands.

It shows what a person looks for in Jira after a push: the issue's summary, status, labels and
the remote links on it (the obligations the tracker pushed). No credentials are asked for, even
when the REST API needs them: the demo's browser links must open (README, "The issue page").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, redirect, render_template_string, url_for
from flask.typing import ResponseReturnValue

from tracker.sandbox.context import sandbox_context
from tracker.sandbox.records import Issue, RemoteLink
from tracker.sandbox.state import SandboxState

blueprint = Blueprint("sandbox_browse", __name__)


@dataclass(frozen=True)
class RemoteLinkView:
    """A remote link as the page lists it."""

    title: str
    url: str | None
    summary: str
    resolved: bool
    relationship: str
    application: str


@blueprint.get("/browse/<key>")
def browse(key: str) -> ResponseReturnValue:
    """Answer the issue as an HTML page; an old key of a moved issue redirects to the new one."""
    state = sandbox_context().state
    with state.lock:
        issue = state.issue(key) if key.strip() else None
        if issue is None:
            return _page(NOT_FOUND, 404, title="Issue does not exist", key=key)
        if issue.key != key:
            return redirect(url_for("sandbox_browse.browse", key=issue.key))
        values = _issue_values(state, issue)
    return _page(ISSUE_PAGE, 200, **values)


def _issue_values(state: SandboxState, issue: Issue) -> dict[str, Any]:
    project = state.project(issue.project_key)
    versions = [
        version.name
        for version_id in issue.fix_version_ids
        if (version := state.version(version_id)) is not None
    ]
    return {
        "title": f"[{issue.key}] {issue.summary}",
        "issue": issue,
        "project": project.name if project is not None else issue.project_key,
        "fix_versions": versions,
        "remote_links": [_link_view(link) for link in issue.remote_links],
    }


def _link_view(link: RemoteLink) -> RemoteLinkView:
    data = link.object
    status = data.get("status")
    application = link.application or {}
    url = str(data.get("url") or "")
    return RemoteLinkView(
        title=str(data.get("title") or url),
        # Only web links are made clickable: a javascript: or data: URL stays plain text.
        url=url if url.lower().startswith(("https://", "http://")) else None,
        summary=str(data.get("summary") or ""),
        resolved=bool(status.get("resolved")) if isinstance(status, dict) else False,
        relationship=link.relationship or "",
        application=str(application.get("name") or ""),
    )


def _page(template: str, status: int, **values: Any) -> Response:
    # Template strings are autoescaped in Flask: every value from the state is escaped.
    body = render_template_string(LAYOUT_START + template + LAYOUT_END, **values)
    return Response(body, status=status, mimetype="text/html")


LAYOUT_START = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} - Jira sandbox</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #172b4d; }
header { background: #0747a6; color: #fff; padding: .5rem 1rem; font-weight: 600; }
main { max-width: 60rem; margin: 1rem auto; padding: 0 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { color: #5e6c84; }
dd { margin: 0; }
.lozenge { border-radius: 3px; padding: 0 .3rem; background: #dfe1e6; font-size: .8rem;
  font-weight: 700; text-transform: uppercase; }
.done { background: #e3fcef; color: #006644; }
.label { border: 1px solid #c1c7d0; border-radius: 3px; padding: 0 .3rem; margin-right: .25rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; border-bottom: 1px solid #dfe1e6; padding: .35rem .5rem;
  vertical-align: top; }
.muted { color: #5e6c84; }
.note { color: #deebff; font-weight: 400; }
pre { white-space: pre-wrap; font: inherit; }
</style>
</head>
<body>
<header>Jira sandbox <span class="note">a local stand-in for Jira</span></header>
<main>
"""

LAYOUT_END = """
</main>
</body>
</html>
"""

ISSUE_PAGE = """
<p class="muted">{{ project }} / {{ issue.key }}</p>
<h1>{{ issue.summary }}</h1>
<dl>
  <dt>Type</dt><dd>{{ issue.issuetype }}</dd>
  <dt>Status</dt><dd><span class="lozenge{{ ' done' if issue.status_category == 'done' else '' }}">
    {{- issue.status.name }}</span></dd>
  <dt>Fix versions</dt><dd>{{ fix_versions|join(', ') or 'None' }}</dd>
  <dt>Labels</dt><dd>{% for label in issue.labels %}<span class="label">{{ label }}</span>
    {%- else %}None{% endfor %}</dd>
  <dt>Assignee</dt><dd>{{ issue.assignee or 'Unassigned' }}</dd>
  {%- if issue.parent_key %}
  <dt>Parent</dt><dd><a href="{{ url_for('sandbox_browse.browse', key=issue.parent_key) }}">
    {{- issue.parent_key }}</a></dd>
  {%- endif %}
  <dt>Updated</dt><dd>{{ issue.updated.strftime('%Y-%m-%d %H:%M UTC') }}</dd>
</dl>
{%- if issue.description %}
<h2>Description</h2>
<pre>{{ issue.description }}</pre>
{%- endif %}
<h2 id="remote-links">Links to other applications ({{ remote_links|length }})</h2>
{%- if remote_links %}
<table>
  <thead><tr><th>Link</th><th>Summary</th><th>Resolved</th><th>From</th></tr></thead>
  <tbody>
  {%- for link in remote_links %}
  <tr>
    <td>{% if link.url %}<a href="{{ link.url }}">{{ link.title }}</a>{% else %}{{ link.title }}
      {%- endif %}{% if link.relationship %}<br><span class="muted">{{ link.relationship }}</span>
      {%- endif %}</td>
    <td>{{ link.summary }}</td>
    <td>{{ 'Yes' if link.resolved else 'No' }}</td>
    <td>{{ link.application }}</td>
  </tr>
  {%- endfor %}
  </tbody>
</table>
{%- else %}
<p class="muted">No links to other applications.</p>
{%- endif %}
<p class="muted">The same issue as JSON:
  <code>/rest/api/2/issue/{{ issue.key }}</code> and
  <code>/rest/api/2/issue/{{ issue.key }}/remotelink</code>.</p>
"""

NOT_FOUND = """
<h1>Issue does not exist</h1>
<p>The issue {{ key }} does not exist or you do not have permission to see it. Check the key;
an issue deleted in Jira is gone from here too.</p>
"""
