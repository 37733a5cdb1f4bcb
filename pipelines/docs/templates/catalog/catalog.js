/* Flywheel docs catalog: the search box of every page and the column-lineage graph of lineage.html.

Hand-written, no library, nothing fetched: the data comes from search-index.js (window.FLYWHEEL_SEARCH) and
lineage-data.js (window.FLYWHEEL_LINEAGE), which the pages load as scripts, so the catalog works opened from files.
Text from the data is only ever set as text (textContent), never parsed as markup.

URL parameters, in the query (?q=mql) or the hash (#q=mql), so a link or a screenshot can open a view directly:
  q=<words>                          fills the search box and shows its results
  column=<schema.table.column>       opens the lineage graph on a column (lineage.html)
  table=<schema.table>               opens it on every column of a table
  depth=<1|2|3|all>, direction=<both|up|down>   how far, and which way, the graph follows the lineage
*/
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const root = document.body.getAttribute("data-root") || "";
  const SEARCH_LIMIT = 40;
  const KIND_LABEL = { model: "model", kpi: "KPI", definition: "definition", table: "table", column: "column" };
  const KIND_ORDER = { model: 0, kpi: 1, definition: 2, table: 3, column: 4 };
  const VIEW_KEYS = ["q", "column", "table"];

  /* The view's parameters: the hash's when it names a view, else the query's. */
  function params() {
    const hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    if (VIEW_KEYS.some((key) => hash.has(key))) return hash;
    return new URLSearchParams(window.location.search);
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- Search ------------------------------------------------------------------------------------------------------

  /* How well an entry matches every word (0: some word is missing): a word that is the name or its last part
     counts most, then the start of a part of the name, anywhere in the name, then the entry's text. */
  function score(entry, words) {
    const name = entry.name.toLowerCase();
    const text = entry.text.toLowerCase();
    const parts = name.split(/[._]+/);
    const last = name.slice(name.lastIndexOf(".") + 1);
    let total = 0;
    for (const word of words) {
      if (name === word || last === word) total += 60;
      else if (name.startsWith(word) || last.startsWith(word)) total += 30;
      else if (parts.some((part) => part.startsWith(word))) total += 20;
      else if (name.includes(word)) total += 10;
      else if (text.includes(word)) total += 3;
      else return 0;
    }
    return total;
  }

  function search(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    const hits = [];
    for (const entry of window.FLYWHEEL_SEARCH || []) {
      const points = score(entry, words);
      if (points > 0) hits.push({ entry: entry, points: points });
    }
    return hits.sort(
      (a, b) =>
        b.points - a.points ||
        KIND_ORDER[a.entry.kind] - KIND_ORDER[b.entry.kind] ||
        a.entry.name.length - b.entry.name.length ||
        (a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : 0)
    );
  }

  function resultItem(entry) {
    const item = element("li");
    item.appendChild(element("span", { class: "badge kind-" + entry.kind }, KIND_LABEL[entry.kind] || entry.kind));
    const link = element("a", { href: root + entry.href });
    link.appendChild(element("code", {}, entry.name));
    item.appendChild(link);
    if (entry.graph) item.appendChild(element("a", { class: "graph-link", href: root + entry.graph }, "graph"));
    if (entry.text) item.appendChild(element("div", { class: "muted" }, entry.text));
    return item;
  }

  function showResults(panel, query) {
    panel.replaceChildren();
    if (!query.trim()) {
      panel.hidden = true;
      return;
    }
    const hits = search(query);
    panel.hidden = false;
    const count = hits.length === 1 ? "1 result" : hits.length + " results";
    panel.appendChild(element("p", { class: "count" }, count + " for \u201c" + query.trim() + "\u201d"));
    const list = element("ul");
    hits.slice(0, SEARCH_LIMIT).forEach((hit) => list.appendChild(resultItem(hit.entry)));
    panel.appendChild(list);
    if (hits.length > SEARCH_LIMIT) {
      panel.appendChild(element("p", { class: "muted" }, "and " + (hits.length - SEARCH_LIMIT) + " more: add a word"));
    }
  }

  function setUpSearch() {
    const box = document.getElementById("search");
    const panel = document.getElementById("search-results");
    if (!box || !panel) return;
    box.addEventListener("input", () => showResults(panel, box.value));
    box.addEventListener("focus", () => showResults(panel, box.value));
    box.form.addEventListener("submit", (event) => {
      event.preventDefault(); // Enter opens the best result
      const first = panel.querySelector("li a");
      if (first) window.location.href = first.href;
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") panel.hidden = true;
      const typing = /^(input|select|textarea)$/i.test(document.activeElement.tagName);
      if (event.key === "/" && !typing) {
        event.preventDefault();
        box.focus();
      }
    });
    document.addEventListener("click", (event) => {
      // a click outside the results closes them, and so does following a result (it may be on this page)
      if ((!panel.contains(event.target) && event.target !== box) || event.target.closest("#search-results a")) {
        panel.hidden = true;
      }
    });
    const query = params().get("q");
    if (query) {
      box.value = query;
      showResults(panel, query);
    }
  }

  // --- The lineage graph -------------------------------------------------------------------------------------------

  const CHAR_WIDTH = 7.6; // of the graph's 12.5px monospace font, bold included
  const MIN_BOX = 170;
  const MAX_BOX = 400;
  const MIN_SCALE = 0.8; // a graph wider than the page is drawn smaller, down to this
  const ROW_HEIGHT = 19;
  const HEAD_HEIGHT = 26;
  const GAP_X = 90;
  const GAP_Y = 22;
  const PAD = 12;

  function tableOf(column) {
    const parts = column.split(".");
    return parts[0] + "." + parts[1];
  }

  /* Text that fits a box `box` pixels wide, cut with an ellipsis when longer. */
  function shortened(text, box) {
    const room = Math.floor((box - 18) / CHAR_WIDTH);
    return text.length <= room ? text : text.slice(0, room - 1) + "\u2026";
  }

  /* The width of a lane's boxes: its longest table or column name, within bounds. */
  function laneWidth(lane) {
    const lengths = lane.flatMap((table) => [
      table.name.length,
      ...table.columns.map((column) => column.length - table.name.length - 1),
    ]);
    return Math.min(MAX_BOX, Math.max(MIN_BOX, Math.ceil(Math.max(...lengths) * CHAR_WIDTH + 18)));
  }

  /* Edges by the column they end at (up) and start from (down). */
  function linksOf(data) {
    const links = { up: new Map(), down: new Map() };
    for (const edge of data.edges) {
      if (!links.up.has(edge[1])) links.up.set(edge[1], []);
      if (!links.down.has(edge[0])) links.down.set(edge[0], []);
      links.up.get(edge[1]).push(edge);
      links.down.get(edge[0]).push(edge);
    }
    return links;
  }

  /* Follow the edges from the start columns, one step at a time, up to `depth` steps; `end` is the index in an
     edge of the column reached (0: upstream, 1: downstream). Returns how many columns it reached. */
  function walk(starts, links, end, depth, nodes, edges) {
    const seen = new Set(starts);
    let frontier = starts.slice();
    for (let step = 0; frontier.length && step < depth; step++) {
      const next = [];
      for (const column of frontier) {
        for (const edge of links.get(column) || []) {
          edges.set(edge.join("|"), edge);
          nodes.add(edge[end]);
          if (!seen.has(edge[end])) {
            seen.add(edge[end]);
            next.push(edge[end]);
          }
        }
      }
      frontier = next;
    }
    return seen.size - starts.length;
  }

  function neighbourhood(links, starts, depth, direction) {
    const nodes = new Set(starts);
    const edges = new Map();
    const upstream = direction !== "down" ? walk(starts, links.up, 0, depth, nodes, edges) : 0;
    const downstream = direction !== "up" ? walk(starts, links.down, 1, depth, nodes, edges) : 0;
    return { nodes: Array.from(nodes), edges: Array.from(edges.values()).sort(), upstream, downstream };
  }

  /* Tables in lanes, left to right: a table's lane is one more than the furthest lane of the tables feeding it. */
  function lanesOf(data, hood) {
    const tables = new Map();
    for (const column of hood.nodes) {
      const name = tableOf(column);
      if (!tables.has(name)) tables.set(name, { name: name, columns: [] });
      tables.get(name).columns.push(column);
    }
    for (const table of tables.values()) {
      const declared = (data.tables[table.name] || { columns: [] }).columns;
      const position = (column) => declared.indexOf(column.slice(table.name.length + 1));
      table.columns.sort((a, b) => position(a) - position(b));
    }
    const feeding = new Map();
    for (const edge of hood.edges) {
      const from = tableOf(edge[0]);
      const to = tableOf(edge[1]);
      if (from === to) continue;
      if (!feeding.has(to)) feeding.set(to, new Set());
      feeding.get(to).add(from);
    }
    const lane = new Map();
    const laneOf = (name, visiting) => {
      if (lane.has(name)) return lane.get(name);
      if (visiting.has(name)) return 0;
      visiting.add(name);
      let found = 0;
      for (const from of feeding.get(name) || []) found = Math.max(found, laneOf(from, visiting) + 1);
      visiting.delete(name);
      lane.set(name, found);
      return found;
    };
    const lanes = [];
    for (const table of tables.values()) {
      const index = laneOf(table.name, new Set());
      (lanes[index] = lanes[index] || []).push(table);
    }
    return Array.from(lanes, (tablesInLane) => tablesInLane || []);
  }

  function tableHeight(table) {
    return HEAD_HEIGHT + table.columns.length * ROW_HEIGHT;
  }

  /* Positions of every table box and column row. Each lane is centred; its tables are ordered by the mean height of
     the rows feeding them (fewer crossing edges), then by name. */
  function place(lanes, hood) {
    const laneHeights = lanes.map((lane) => lane.reduce((sum, table) => sum + tableHeight(table) + GAP_Y, -GAP_Y));
    const height = Math.max(...laneHeights, 0);
    const rows = new Map();
    let left = PAD;
    lanes.forEach((lane, index) => {
      const width = laneWidth(lane);
      for (const table of lane) {
        const feeders = hood.edges.filter((edge) => tableOf(edge[1]) === table.name && rows.has(edge[0]));
        const ys = feeders.map((edge) => rows.get(edge[0]).y);
        table.order = ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
      }
      lane.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : 1));
      let top = PAD + (height - laneHeights[index]) / 2;
      for (const table of lane) {
        table.x = left;
        table.y = top;
        table.width = width;
        table.columns.forEach((column, row) => {
          rows.set(column, { x: left, right: left + width, y: top + HEAD_HEIGHT + row * ROW_HEIGHT + ROW_HEIGHT / 2 });
        });
        top += tableHeight(table) + GAP_Y;
      }
      left += width + GAP_X;
    });
    return { rows: rows, width: left - GAP_X + PAD, height: height + PAD * 2 };
  }

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawEdge(canvas, edge, layout) {
    const from = layout.rows.get(edge[0]);
    const to = layout.rows.get(edge[1]);
    const x1 = from.right;
    const bend = GAP_X / 2;
    const path = svg("path", {
      class: "edge " + edge[2],
      d: `M${x1},${from.y} C${x1 + bend},${from.y} ${to.x - bend},${to.y} ${to.x},${to.y}`,
    });
    path.appendChild(svg("title", {}, edge[0] + " \u2192 " + edge[1] + " (" + edge[2] + ")"));
    canvas.appendChild(path);
  }

  function drawTable(canvas, data, table, focus, open) {
    const box = table.width;
    const info = data.tables[table.name] || { layer: "raw", href: "" };
    const group = svg("g", { class: "table layer-" + info.layer });
    const corner = { x: table.x, y: table.y, width: box, rx: 5 };
    group.appendChild(svg("rect", { class: "box", ...corner, height: tableHeight(table) }));
    group.appendChild(svg("rect", { class: "head", ...corner, height: HEAD_HEIGHT }));
    const title = svg("text", { class: "head-text", x: table.x + 8, y: table.y + 17 }, shortened(table.name, box));
    const head = info.href ? svg("a", { href: root + info.href }) : group;
    head.appendChild(svg("title", {}, table.name + " (" + info.layer + ")"));
    head.appendChild(title);
    if (head !== group) group.appendChild(head);
    table.columns.forEach((column, row) => {
      const y = table.y + HEAD_HEIGHT + row * ROW_HEIGHT;
      const name = column.slice(table.name.length + 1);
      const item = svg("g", { class: "row" + (focus.has(column) ? " focus" : ""), tabindex: 0 });
      item.appendChild(svg("rect", { x: table.x + 1, y: y, width: box - 2, height: ROW_HEIGHT }));
      item.appendChild(svg("text", { x: table.x + 10, y: y + 14 }, shortened(name, box)));
      item.appendChild(svg("title", {}, column + ": click to follow it"));
      item.addEventListener("click", () => open("column", column));
      item.addEventListener("keydown", (event) => event.key === "Enter" && open("column", column));
      group.appendChild(item);
    });
    canvas.appendChild(group);
  }

  function listEdges(edges) {
    const body = document.getElementById("lineage-edges");
    if (!body) return;
    body.replaceChildren();
    for (const edge of edges) {
      const row = element("tr");
      row.appendChild(element("td", {}, "")).appendChild(element("code", {}, edge[0]));
      row.appendChild(element("td", {}, "")).appendChild(element("code", {}, edge[1]));
      row.appendChild(element("td", {}, edge[2]));
      body.appendChild(row);
    }
  }

  function summary(focusName, hood) {
    const tables = new Set(hood.nodes.map(tableOf));
    return (
      `${focusName}: ${hood.upstream} upstream and ${hood.downstream} downstream columns, ` +
      `${hood.edges.length} edges, ${tables.size} tables.`
    );
  }

  /* With nothing chosen: the marts to start from. */
  function showStart(graph, data, open) {
    graph.replaceChildren(element("p", {}, "Choose a column or a table above, or start from a mart:"));
    const list = element("ul", { class: "refs cols" });
    for (const [name, table] of Object.entries(data.tables)) {
      if (table.layer !== "marts") continue;
      const link = element("a", { href: "#table=" + name });
      link.appendChild(element("code", {}, name));
      link.addEventListener("click", (event) => {
        event.preventDefault();
        open("table", name);
      });
      list.appendChild(element("li")).appendChild(link);
    }
    graph.appendChild(list);
  }

  function drawGraph(data, links, view, open) {
    const graph = document.getElementById("lineage-graph");
    const note = document.getElementById("lineage-summary");
    let starts = [];
    if (view.kind === "column" && data.tables[tableOf(view.name)]) starts = [view.name];
    if (view.kind === "table" && data.tables[view.name]) {
      starts = data.tables[view.name].columns.map((column) => view.name + "." + column);
    }
    if (!starts.length) {
      note.textContent = view.name ? "No column or table named " + view.name + "." : "";
      listEdges([]);
      showStart(graph, data, open);
      return;
    }
    const depth = view.depth === "all" ? Infinity : Number(view.depth);
    const hood = neighbourhood(links, starts, depth, view.direction);
    const lanes = lanesOf(data, hood);
    const layout = place(lanes, hood);
    const scale = Math.min(1, Math.max(MIN_SCALE, (graph.clientWidth - 12) / layout.width));
    const canvas = svg("svg", {
      width: Math.round(layout.width * scale),
      height: Math.round(layout.height * scale),
      viewBox: `0 0 ${layout.width} ${layout.height}`,
    });
    hood.edges.forEach((edge) => drawEdge(canvas, edge, layout));
    const focus = new Set(starts);
    lanes.forEach((lane) => lane.forEach((table) => drawTable(canvas, data, table, focus, open)));
    graph.replaceChildren(canvas);
    note.textContent = summary(view.name, hood);
    listEdges(hood.edges);
  }

  function currentView() {
    const found = params();
    const kind = found.has("column") ? "column" : found.has("table") ? "table" : "";
    return {
      kind: kind,
      name: kind ? found.get(kind) : "",
      depth: found.get("depth") || (kind === "table" ? "1" : "all"),
      direction: found.get("direction") || "both",
    };
  }

  function setUpGraph() {
    const graph = document.getElementById("lineage-graph");
    const data = window.FLYWHEEL_LINEAGE;
    if (!graph || !data) return;
    const links = linksOf(data);
    const pick = document.getElementById("lineage-pick");
    const depthChoice = document.getElementById("lineage-depth");
    const directionChoice = document.getElementById("lineage-direction");
    const names = document.getElementById("lineage-names");
    for (const [name, table] of Object.entries(data.tables)) {
      names.appendChild(element("option", { value: name }));
      table.columns.forEach((column) => names.appendChild(element("option", { value: name + "." + column })));
    }
    const open = (kind, name, depth, direction) => {
      const view = new URLSearchParams();
      view.set(kind, name);
      if (depth && depth !== (kind === "table" ? "1" : "all")) view.set("depth", depth);
      if (direction && direction !== "both") view.set("direction", direction);
      window.location.hash = view.toString();
    };
    const render = () => {
      const view = currentView();
      pick.value = view.name;
      depthChoice.value = view.depth;
      directionChoice.value = view.direction;
      drawGraph(data, links, view, (kind, name) => open(kind, name, depthChoice.value, directionChoice.value));
    };
    const reopen = () => {
      const name = pick.value.trim();
      const kind = data.tables[name] ? "table" : "column";
      if (name) open(kind, name, depthChoice.value, directionChoice.value);
    };
    pick.addEventListener("change", reopen);
    depthChoice.addEventListener("change", reopen);
    directionChoice.addEventListener("change", reopen);
    document.getElementById("lineage-controls").addEventListener("submit", (event) => {
      event.preventDefault();
      reopen();
    });
    window.addEventListener("hashchange", render);
    render();
  }

  setUpSearch();
  setUpGraph();
})();
