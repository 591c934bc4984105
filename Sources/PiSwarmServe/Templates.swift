/// The pages' Mustache templates. `{{x}}` escapes HTML; nothing here uses `{{{x}}}` but the
/// live script's fixed text.
enum Templates {
  static let all: [(String, String)] = [
    ("head", head), ("tile", tile), ("summary", summary), ("rack", rack), ("node", node), ("confirm", confirm),
    ("outcome", outcome), ("login", login),
  ]

  static let head = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}}</title>
    <style>
    body{font:14px/1.35 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
    header{display:flex;gap:1em;align-items:baseline;padding:.7em 1.2em;background:#1d2330;color:#fff}
    header h1{font-size:1.2em;margin:0}header a{color:#9cc3ff}header form{margin-left:auto}
    main{padding:1em 1.2em}h2{font-size:1em;margin:1em 0 .5em;color:#4a5263}
    .rack{display:grid;grid-template-columns:repeat(auto-fill,minmax(215px,1fr));gap:.7em;align-items:start}
    .tile{background:#fff;border-radius:6px;border-left:8px solid #999;padding:.5em .7em;box-shadow:0 1px 2px #0002}
    .tile.ok{border-color:#2e9d4a}.tile.warn{border-color:#e0a100}.tile.bad{border-color:#d23b2f;background:#fff4f3}
    .tile.unknown{border-color:#9aa1ad}
    .tile h3{margin:0;font-size:1.05em;display:flex;justify-content:space-between}.tile h3 a{color:inherit;text-decoration:none}
    .status{font-size:.8em;padding:0 .5em;border-radius:9px;background:#e8eaee}
    .ok .status{background:#d6f0dc}.warn .status{background:#fbeab3}.bad .status{background:#f6d0cc}
    .tile[data-status=down] .status{background:#d23b2f;color:#fff}
    .ip{color:#6b7385;font-size:.85em}ul.why{margin:.3em 0;padding-left:1.1em;color:#8a2018}.warn ul.why{color:#7a5a00}
    dl{display:grid;grid-template-columns:auto 1fr;gap:0 .6em;margin:.3em 0;font-size:.9em}dt{color:#6b7385}dd{margin:0}
    .actions{display:flex;flex-wrap:wrap;gap:.3em}.actions button{font-size:.8em}
    .summary span{margin-right:.8em}.dot{display:inline-block;width:.7em;height:.7em;border-radius:50%;margin-right:.2em}
    .dot.ok{background:#2e9d4a}.dot.warn{background:#e0a100}.dot.bad{background:#d23b2f}.dot.unknown{background:#9aa1ad}
    table{border-collapse:collapse;background:#fff}td,th{padding:.2em .6em;border-bottom:1px solid #e3e5ea;text-align:left}
    code{background:#e8eaee;padding:0 .3em;border-radius:3px}
    </style></head><body>
    """

  static let tile = """
    <article class="tile {{health}}" id="tile-{{name}}" data-status="{{status}}" data-health="{{health}}">
    <h3><a href="/node/{{name}}">{{name}}</a><span class="status">{{status}}</span></h3>
    <div class="ip">{{ip}}</div>
    {{#hasReasons}}<ul class="why">{{#reasons}}<li>{{.}}</li>{{/reasons}}</ul>{{/hasReasons}}
    <dl>{{#lines}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/lines}}</dl>
    {{#hasActions}}<div class="actions">{{/hasActions}}{{#actions}}<form method="post" action="/action" data-action="{{action}}"><input type="hidden" name="node" value="{{name}}"><input type="hidden" name="action" value="{{action}}"><input type="hidden" name="csrf" value="{{csrf}}"><button>{{label}}</button></form>{{/actions}}{{#hasActions}}</div>{{/hasActions}}
    </article>
    """

  static let summary = """
    <div class="summary" id="summary">{{total}} nodes: {{#parts}}<span><i class="dot {{health}}"></i>{{count}} {{health}}</span>{{/parts}}</div>
    """

  static let bar = """
    <header><h1><a href="/">{{cluster}}</a></h1>
    {{#viewer.readOnly}}<span>read-only</span>{{/viewer.readOnly}}
    {{#viewer.loggedIn}}<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{viewer.csrf}}"><button>log out</button></form>{{/viewer.loggedIn}}
    {{^viewer.loggedIn}}<a href="/login">log in</a>{{/viewer.loggedIn}}
    </header>
    """

  /// The live part: the server sends changed tiles and the summary as HTML, replaced by id.
  static let live = """
    <script>
    const events = new EventSource("/events");
    events.addEventListener("tile", (e) => {
      const update = JSON.parse(e.data);
      const old = document.getElementById(update.id);
      if (old) { old.outerHTML = update.html; }
    });
    events.addEventListener("summary", (e) => {
      const old = document.getElementById("summary");
      if (old) { old.outerHTML = JSON.parse(e.data).html; }
    });
    </script>
    """

  static let rack = """
    {{> head}}
    \(bar)
    <main>{{#summary}}{{> summary}}{{/summary}}
    {{#groups}}{{#named}}<h2>{{name}}</h2>{{/named}}<section class="rack">{{#tiles}}{{> tile}}{{/tiles}}</section>{{/groups}}
    </main>
    \(live)
    </body></html>
    """

  static let node = """
    {{> head}}
    \(bar)
    <main>
    <section class="rack">{{#tile}}{{> tile}}{{/tile}}</section>
    <h2>How to reach it</h2>
    {{#reach}}<div><code>{{.}}</code></div>{{/reach}}
    <h2>Tasks</h2>
    {{#hasTasks}}<ul>{{#tasks}}<li>{{.}}</li>{{/tasks}}</ul>{{/hasTasks}}{{^hasTasks}}<p>none running</p>{{/hasTasks}}
    <h2>Facts</h2>
    {{#hasFacts}}<table>{{#facts}}<tr><th>{{key}}</th><td>{{value}}</td></tr>{{/facts}}</table>{{/hasFacts}}
    {{^hasFacts}}<p>none stored: <code>piswarm facts {{name}}</code> reads them</p>{{/hasFacts}}
    <h2>Recent boot and power events</h2>
    {{#hasEvents}}<table>{{#events}}<tr><td>{{time}}</td><td>{{kind}}</td><td>{{text}}</td></tr>{{/events}}</table>{{/hasEvents}}
    {{^hasEvents}}<p>none recorded</p>{{/hasEvents}}
    </main>
    \(live)
    </body></html>
    """

  static let confirm = """
    {{> head}}
    <main><h1>{{label}} {{node}}?</h1>
    <form method="post" action="/action" data-confirm="{{action}}"><input type="hidden" name="node" value="{{node}}"><input type="hidden" name="action" value="{{action}}"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="confirmed" value="yes">
    <button>yes, {{label}} {{node}}</button> <a href="/">no, back to the rack</a></form>
    </main></body></html>
    """

  static let outcome = """
    {{> head}}
    <main><h1>{{label}} {{node}}: {{#ok}}done{{/ok}}{{^ok}}failed{{/ok}}</h1>
    <p id="outcome" data-ok="{{ok}}">{{message}}</p>
    <p><a href="/">back to the rack</a> · <a href="/node/{{node}}">{{node}}</a></p>
    </main></body></html>
    """

  static let login = """
    {{> head}}
    <main><h1>log in</h1>
    {{#hasProblem}}<p class="why">{{problem}}</p>{{/hasProblem}}
    <p>Paste the token from <code>serve-token</code> in piswarm's state directory, or open the one-time URL that <code>piswarm serve --login-url</code> prints.</p>
    <form method="post" action="/login"><input type="password" name="token" autocomplete="off" size="50"> <button>log in</button></form>
    </main></body></html>
    """
}
