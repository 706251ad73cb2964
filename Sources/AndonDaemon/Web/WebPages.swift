/// The web face's pages: the board (one self-contained page: its style and script inline, no external asset, so it
/// works on a plant network without internet) and the acknowledge link's pages (Mustache, HTML-escaped).
///
/// The board never puts a sender's text into markup: every value goes through `textContent`.
enum WebPages {
    /// The board's policy: its own inline script and style, requests to andond only.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
        + "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    /// The acknowledge pages: no script at all; the form posts to andond.
    static let pageSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static let boardBytes = Array(board.utf8)

    static let acknowledge = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Acknowledge call {{call}}</title>
        <style>
        body{font-family:system-ui,sans-serif;background:#111;color:#eee;margin:0;padding:1.5rem;font-size:1.25rem}
        main{max-width:36rem;margin:auto}h1{font-size:1.1rem;color:#aaa;font-weight:normal}
        .what{font-size:1.8rem;font-weight:bold;margin:.5rem 0}.text{font-style:italic;color:#ddd}
        button{font-size:1.6rem;padding:1rem 1.5rem;width:100%;border:0;border-radius:.5rem;background:#2e7d32;color:#fff}
        .taken{color:#ffb300}
        </style></head>
        <body><main>
        <h1>{{site}}: call {{call}}</h1>
        <p class="what">{{what}}</p>
        {{#text}}<p class="text">“{{text}}”</p>{{/text}}
        <p>Raised at {{raised}}, now at the {{tier}} tier.</p>
        {{#acknowledgedBy}}<p class="taken">Already acknowledged by {{acknowledgedBy}}.</p>{{/acknowledgedBy}}
        <form method="post"><button type="submit">Acknowledge as {{name}}</button></form>
        </main></body></html>
        """

    static let answer = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title>
        <style>body{font-family:system-ui,sans-serif;background:#111;color:#eee;margin:0;padding:1.5rem;font-size:1.25rem}
        main{max-width:36rem;margin:auto}h1{font-size:1.8rem}</style></head>
        <body><main><h1>{{title}}</h1><p>{{text}}</p></main></body></html>
        """

    static let board = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Andon board</title>
        <style>
        :root{--bg:#0b0d10;--panel:#16191e;--fg:#f2f2f2;--dim:#9aa3ad;--red:#e53935;--green:#2e7d32}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--fg);font-family:"DejaVu Sans",system-ui,sans-serif;overflow:hidden}
        header{display:flex;align-items:center;gap:2rem;padding:.6rem 1.4rem;background:#000;font-size:30px}
        header .site{font-weight:bold}
        header .clock{margin-left:auto;font-size:40px;font-variant-numeric:tabular-nums;font-weight:bold}
        header .kpo{color:var(--dim)}
        #banner{display:none;background:var(--red);color:#fff;font-size:36px;font-weight:bold;padding:.5rem 1.4rem}
        body.offline #banner{display:block}
        body.offline main{opacity:.45}
        main{display:grid;grid-template-columns:repeat(auto-fit,minmax(620px,1fr));gap:14px;padding:14px}
        main.one{grid-template-columns:1fr}
        .line{background:var(--panel);border-radius:10px;overflow:hidden;border:4px solid transparent}
        .line.stopped{border-color:var(--red)}
        .line h2{display:flex;align-items:baseline;gap:1rem;margin:0;padding:.4rem 1rem;font-size:38px}
        .line h2 .desc{font-size:24px;color:var(--dim);font-weight:normal}
        .line h2 .state{margin-left:auto;font-size:30px;padding:.1rem .8rem;border-radius:6px;background:var(--green)}
        .line.stopped h2 .state{background:var(--red)}
        .call{display:grid;grid-template-columns:18px minmax(0,1fr) auto;gap:0 1rem;margin:8px;border-radius:8px;background:#23272e;
          min-height:110px;align-items:center}
        .call .band{align-self:stretch;border-radius:8px 0 0 8px}
        .call .main{padding:.4rem 0;min-width:0}
        .call .top{display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}
        .call .station{font-size:48px;font-weight:bold}
        .call .kind{font-size:30px;text-transform:uppercase;letter-spacing:.04em}
        .call .who{font-size:28px;color:#dde}
        .call .text{font-size:24px;color:var(--dim);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        .call .side{text-align:right;padding:.4rem 1rem;font-variant-numeric:tabular-nums;white-space:nowrap}
        .call .age{font-size:48px;font-weight:bold}
        .call .next{font-size:24px;color:var(--dim)}
        .call .tier{font-size:24px}
        .badge{font-size:22px;font-weight:bold;padding:.05rem .5rem;border-radius:5px;background:#555;color:#fff}
        .badge.drill{background:#1565c0}.badge.fail{background:#b71c1c}.badge.state{background:#37474f}
        .badge.shelved{background:#616161}
        .shelf{font-size:24px;color:var(--dim);padding:.2rem 1rem;border-left:6px solid #616161;margin:.2rem 0}
        .call[data-state=open] .badge.state{background:var(--red)}
        .call[data-state=arrived] .badge.state{background:var(--green)}
        .call[data-state=acknowledged] .badge.state{background:#f9a825;color:#000}
        body.phase .call[data-state=open]{background:#7f1d1d}
        .quiet{font-size:28px;color:var(--dim);padding:.6rem 1rem 1rem}
        .more{font-size:26px;color:var(--dim);padding:.2rem 1rem .8rem}
        </style></head>
        <body>
        <header><span class="site" id="site">andond</span><span id="shift"></span><span class="kpo" id="kpo"></span>
        <span class="clock" id="clock">--:--</span></header>
        <div id="banner" role="alert">CONNECTION TO ANDOND LOST: reconnecting… (the calls below may be out of date)</div>
        <main id="lines"></main>
        <script>
        "use strict";
        const params = new URLSearchParams(location.search);
        const only = params.get("line");
        const query = only ? "?line=" + encodeURIComponent(only) : "";
        const colours = {safety:"#e53935", stop:"#e53935", help:"#fbc02d", quality:"#8e24aa", maintenance:"#fb8c00",
          material:"#1e88e5", delivery:"#00acc1", cost:"#00897b", silent:"#757575"};
        const perLine = 8;
        let calls = new Map(), plant = null, offset = 0, lastHeard = Date.now(), source = null, loading = null;
        const now = () => Date.now() + offset;
        const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls;
          if (text !== undefined && text !== null) e.textContent = String(text); return e; };
        const pad = n => (n < 10 ? "0" : "") + n;
        const clockOf = ms => { const d = new Date(ms); return pad(d.getHours()) + ":" + pad(d.getMinutes()); };
        function span(ms) { const s = Math.max(0, Math.floor(ms / 1000)); const h = Math.floor(s / 3600);
          const m = Math.floor(s % 3600 / 60); return h ? h + ":" + pad(m) + ":" + pad(s % 60) : m + ":" + pad(s % 60); }
        function category(c) { return c.kind === "andon" ? (c.category || "andon") : c.kind; }
        function severe(c) { return c.kind === "stop" || (plant && (plant.pageEveryone || []).includes(c.category)); }
        function rank(c) { return (severe(c) ? 0 : 10) + (c.shelf ? 8 : 0) +
          (c.state === "open" ? 0 : c.state === "acknowledged" ? 3 : 6); }
        function order(a, b) { return rank(a) - rank(b) || b.tierNumber - a.tierNumber || a.raisedAt - b.raisedAt; }
        async function load() {
          if (loading) return loading;
          loading = (async () => {
            try {
              const response = await fetch("/api/v1/calls" + query, {cache: "no-store"});
              if (!response.ok) throw new Error(response.status);
              const status = await response.json();
              plant = status.plant || {lines: [], kpo: []};
              document.getElementById("site").textContent = status.site;
              offset = status.now - Date.now();
              calls = new Map(status.incidents.map(c => [c.id, c]));
              render();
            } finally { loading = null; }
          })();
          return loading;
        }
        function online(yes) { document.body.classList.toggle("offline", !yes); }
        function connect() {
          if (source) source.close();
          source = new EventSource("/events" + query);
          source.addEventListener("open", () => { lastHeard = Date.now(); online(true); });
          source.addEventListener("call", e => {
            const d = JSON.parse(e.data);
            if (d.call) calls.set(d.id, d.call); else calls.delete(d.id);
            offset = d.now - Date.now(); lastHeard = Date.now(); online(true); render();
          });
          source.addEventListener("tick", e => { offset = JSON.parse(e.data).now - Date.now(); lastHeard = Date.now();
            online(true); });
          source.addEventListener("reset", () => { load(); });
          source.addEventListener("error", () => {
            online(false);
            if (source.readyState === EventSource.CLOSED) setTimeout(restart, 2000);
          });
        }
        async function restart() { try { await load(); } catch (e) {} connect(); }
        function renderCall(c, t) {
          const row = el("div", "call"); row.dataset.incident = c.id;
          // A shelved call calls nobody: it does not flash.
          row.dataset.state = c.shelf && (c.state || "open") === "open" ? "shelved" : c.state || "open";
          const band = el("div", "band"); band.style.background = colours[category(c)] || "#90a4ae"; row.append(band);
          const main = el("div", "main"); const top = el("div", "top");
          top.append(el("span", "station", c.kind === "stop" ? "LINE STOP" : (c.station || c.line)));
          top.append(el("span", "kind", c.kind === "stop" ? (c.stations || []).join(" ") : category(c)));
          const state = c.state === "arrived" ? "ON SITE" : c.state === "acknowledged" ? "RESPONDING" : "NO RESPONSE";
          top.append(el("span", "badge state", state));
          if (c.drill) top.append(el("span", "badge drill", "DRILL"));
          if (c.notifyFailed) top.append(el("span", "badge fail", "NOTIFY FAILED"));
          if (c.shelf) top.append(el("span", "badge shelved", "SHELVED"));
          main.append(top);
          let who;
          if (c.state === "arrived") who = "on site: " + (c.arrivedBy || "");
          else if (c.state === "acknowledged") who = "taken by " + (c.acknowledgedBy || "");
          else if (c.shelf) who = "shelved: calling nobody";
          else who = "calling " + ((c.responders || []).join(", ") || "nobody on duty");
          main.append(el("div", "who", who));
          if (c.text) main.append(el("div", "text", c.text));
          row.append(main);
          const side = el("div", "side"); side.append(el("div", "age", span(t - c.raisedAt)));
          side.append(el("div", "tier", c.tier + " " + c.tierNumber + "/" + c.tiers));
          if (c.nextDeadline) {
            const verb = c.state === "open" ? (c.tierNumber === c.tiers ? "repeats in " : "escalates in ") : "next step in ";
            side.append(el("div", "next", verb + span(c.nextDeadline - t)));
          }
          row.append(side);
          return row;
        }
        function render() {
          if (!plant) return;
          const t = now(); const d = new Date(t);
          document.getElementById("clock").textContent = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
          document.getElementById("shift").textContent = plant.shift ? "shift " + plant.shift : "";
          document.getElementById("kpo").textContent = "KPO: " + ((plant.kpo || []).join(", ") || "nobody on duty");
          const byLine = new Map();
          for (const l of plant.lines) if (!only || l.id === only) byLine.set(l.id, {line: l, calls: []});
          for (const c of calls.values()) {
            if (!byLine.has(c.line)) byLine.set(c.line, {line: {id: c.line, stations: []}, calls: []});
            byLine.get(c.line).calls.push(c);
          }
          const groups = [...byLine.values()];
          for (const g of groups) { g.calls.sort(order); g.stop = g.calls.find(c => c.kind === "stop"); }
          groups.sort((a, b) => (b.stop ? 1 : 0) - (a.stop ? 1 : 0) ||
            (a.calls.length ? rank(a.calls[0]) : 99) - (b.calls.length ? rank(b.calls[0]) : 99) ||
            a.line.id.localeCompare(b.line.id));
          const root = document.getElementById("lines"); root.className = only ? "one" : "";
          const panels = [];
          for (const g of groups) {
            const panel = el("section", "line" + (g.stop ? " stopped" : "")); panel.dataset.line = g.line.id;
            const h = el("h2"); h.append(el("span", "", g.line.id));
            if (g.line.description) h.append(el("span", "desc", g.line.description));
            h.append(el("span", "state", g.stop ? "STOPPED " + Math.floor((t - g.stop.raisedAt) / 60000) + " min" : "RUNNING"));
            panel.append(h);
            for (const s of (plant.shelves || []).filter(s => s.line === g.line.id)) {
              const what = [s.station, s.category].filter(x => x).join(" ") || "all calls";
              const until = s.until ? "until " + clockOf(s.until) : "until clear";
              panel.append(el("div", "shelf", "SHELVED " + what + " " + until + " (" + s.by + ": " + s.reason + ")"));
            }
            for (const o of (plant.outOfService || []).filter(o => o.line === g.line.id)) {
              panel.append(el("div", "shelf", "OUT OF SERVICE " + o.station + " (" + o.by + ": " + o.reason + ")"));
            }
            for (const c of g.calls.slice(0, perLine)) panel.append(renderCall(c, t));
            if (g.calls.length > perLine) panel.append(el("div", "more", "+ " + (g.calls.length - perLine) + " more calls"));
            if (!g.calls.length) panel.append(el("div", "quiet", "no open calls"));
            panels.push(panel);
          }
          root.replaceChildren(...panels);
        }
        setInterval(() => {
          document.body.classList.toggle("phase", Math.floor(Date.now() / 500) % 2 === 0);
          if (Date.now() - lastHeard > 4500) {
            online(false);
            if (Date.now() - lastHeard > 9000) { lastHeard = Date.now(); restart(); }
          }
        }, 250);
        setInterval(render, 1000);
        setInterval(() => { load().catch(() => {}); }, 60000);
        restart();
        </script>
        </body></html>
        """#
}
