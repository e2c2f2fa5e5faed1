/* Interlink admin: small progressive enhancements. Every page works without this file; with it, destructive
   buttons ask first, webhook URLs copy with one click, and sync rules get a visual builder. No dependencies. */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
      else if (attrs[key] !== null && attrs[key] !== undefined && attrs[key] !== false) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  /* -- confirmations and copy buttons ----------------------------------------------------------------- */
  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.querySelector(button.getAttribute("data-copy"));
        if (!input) return;
        input.select();
        var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
        if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
        else { document.execCommand("copy"); done(); }
      });
    });
  }

  /* -- the sync-rule builder ---------------------------------------------------------------------------- */
  function ruleBuilder() {
    var mount = document.getElementById("rule-builder");
    var dataNode = document.getElementById("rule-builder-data");
    var textarea = document.getElementById("rule-condition");
    if (!mount || !dataNode || !textarea) return;
    var meta = JSON.parse(dataNode.textContent);
    var fields = {};
    meta.fields.forEach(function (f) { fields[f.name] = f; });
    var noValue = { is_set: true, is_not_set: true };
    var listOps = { "in": true, not_in: true };

    function fromJson(value) {
      if (value && typeof value === "object" && (Array.isArray(value.all) || Array.isArray(value.any))) {
        var mode = Array.isArray(value.all) ? "all" : "any";
        return { kind: "group", mode: mode, children: value[mode].map(fromJson) };
      }
      if (value && typeof value === "object" && "field" in value) {
        return { kind: "leaf", field: value.field, op: value.op, value: value.value };
      }
      return null;
    }

    function toJson(node) {
      if (node.kind === "group") {
        var out = {};
        out[node.mode] = node.children.map(toJson);
        return out;
      }
      var leaf = { field: node.field, op: node.op };
      if (!noValue[node.op]) leaf.value = node.value === undefined ? null : node.value;
      return leaf;
    }

    function blankLeaf() {
      var first = meta.fields[0];
      var ops = first ? operatorsFor(first.name) : ["eq"];
      return { kind: "leaf", field: first ? first.name : "", op: ops.indexOf("is_set") >= 0 ? "is_set" : ops[0], value: null };
    }

    function operatorsFor(fieldName) {
      var spec = fields[fieldName];
      return spec ? meta.operators[spec.type] || ["eq", "ne", "is_set", "is_not_set"] : ["eq", "ne", "is_set", "is_not_set"];
    }

    var root;
    function load() {
      var parsed = null;
      try { parsed = JSON.parse(textarea.value || "null"); } catch (e) { return false; }
      var node = fromJson(parsed);
      if (!node) node = { kind: "group", mode: "all", children: [blankLeaf()] };
      if (node.kind === "leaf") node = { kind: "group", mode: "all", children: [node] };
      root = node;
      return true;
    }

    function save() { textarea.value = JSON.stringify(toJson(root), null, 2); }

    function valueInput(node, id) {
      var spec = fields[node.field];
      if (noValue[node.op]) return el("span", { "class": "muted", text: "(no value needed)" });
      var label = "Value for " + (spec ? spec.label : node.field);
      if (spec && spec.options && spec.options.length && (spec.type === "enumeration" || spec.type === "multi_select" || spec.type === "bool")) {
        var multiple = !!listOps[node.op];
        var chosen = Array.isArray(node.value) ? node.value.map(String) : [node.value === null || node.value === undefined ? "" : String(node.value)];
        var select = el("select", { id: id, "aria-label": label, multiple: multiple ? "multiple" : null, size: multiple ? Math.min(6, spec.options.length) : null,
          onchange: function () {
            node.value = multiple ? Array.prototype.filter.call(select.options, function (o) { return o.selected; }).map(function (o) { return o.value; }) : select.value;
            save();
          } }, (multiple ? [] : [el("option", { value: "", text: "— choose —" })]).concat(spec.options.map(function (option) {
            return el("option", { value: option, text: option, selected: chosen.indexOf(String(option)) >= 0 ? "selected" : null });
          })));
        return select;
      }
      var type = "text";
      if (spec && spec.type === "number" && !listOps[node.op]) type = "number";
      if (spec && spec.type === "date") type = "date";
      if (spec && spec.type === "bool") {
        var boolSelect = el("select", { id: id, "aria-label": label, onchange: function () { node.value = boolSelect.value === "true"; save(); } }, [
          el("option", { value: "true", text: "yes", selected: node.value === true ? "selected" : null }),
          el("option", { value: "false", text: "no", selected: node.value === false ? "selected" : null })
        ]);
        if (node.value !== true && node.value !== false) { node.value = true; }
        return boolSelect;
      }
      var shown = Array.isArray(node.value) ? node.value.join(", ") : (node.value === null || node.value === undefined ? "" : String(node.value));
      var input = el("input", { id: id, type: type, value: shown, "aria-label": label + (listOps[node.op] ? " (separate with commas)" : ""),
        placeholder: listOps[node.op] ? "a, b, c" : "",
        oninput: function () {
          var raw = input.value;
          if (listOps[node.op]) node.value = raw.split(",").map(function (s) { return s.trim(); }).filter(Boolean).map(function (s) { return type === "number" && !isNaN(Number(s)) ? Number(s) : s; });
          else if (spec && spec.type === "number" && raw !== "" && !isNaN(Number(raw))) node.value = Number(raw);
          else node.value = raw;
          save();
        } });
      return input;
    }

    var counter = 0;
    function renderLeaf(node, parent, path) {
      var id = "rb-" + (++counter);
      var fieldSelect = el("select", { id: id + "-field", "aria-label": "Field", onchange: function () {
        node.field = fieldSelect.value;
        var ops = operatorsFor(node.field);
        if (ops.indexOf(node.op) < 0) node.op = ops[0];
        node.value = null;
        save(); render();
        var again = document.getElementById(id + "-field"); if (again) again.focus();
      } }, meta.fields.map(function (f) {
        return el("option", { value: f.name, text: f.label + " (" + f.name + ")", selected: f.name === node.field ? "selected" : null });
      }));
      if (!fields[node.field]) fieldSelect.insertBefore(el("option", { value: node.field, text: node.field + " (unknown field)", selected: "selected" }), fieldSelect.firstChild);
      var opSelect = el("select", { id: id + "-op", "aria-label": "Operator", onchange: function () {
        var wasList = !!listOps[node.op];
        node.op = opSelect.value;
        if (wasList !== !!listOps[node.op]) node.value = null;
        save(); render();
        var again = document.getElementById(id + "-op"); if (again) again.focus();
      } }, operatorsFor(node.field).map(function (op) {
        return el("option", { value: op, text: meta.labels[op] || op, selected: op === node.op ? "selected" : null });
      }));
      var remove = el("button", { type: "button", "class": "quiet", "aria-label": "Remove this condition", text: "Remove", onclick: function () {
        parent.children.splice(parent.children.indexOf(node), 1);
        if (!parent.children.length) parent.children.push(blankLeaf());
        save(); render();
      } });
      return el("div", { "class": "rb-leaf" + (meta.error_path === path ? " rb-error" : ""), "data-path": path },
        [fieldSelect, opSelect, valueInput(node, id + "-value"), remove]);
    }

    function renderGroup(node, parent, path) {
      var modeSelect = el("select", { "aria-label": "How the conditions combine", onchange: function () { node.mode = modeSelect.value; save(); } }, [
        el("option", { value: "all", text: "all of these hold", selected: node.mode === "all" ? "selected" : null }),
        el("option", { value: "any", text: "any of these holds", selected: node.mode === "any" ? "selected" : null })
      ]);
      var head = el("div", { "class": "rb-group-head" }, [el("span", { text: parent ? "A group where" : "Create when" }), modeSelect]);
      var children = node.children.map(function (child, index) {
        var childPath = path + "." + node.mode + "[" + index + "]";
        return child.kind === "group" ? renderGroup(child, node, childPath) : renderLeaf(child, node, childPath);
      });
      var buttons = el("div", { "class": "rb-buttons" }, [
        el("button", { type: "button", text: "+ Condition", onclick: function () { node.children.push(blankLeaf()); save(); render(); } }),
        el("button", { type: "button", text: "+ Group", onclick: function () {
          node.children.push({ kind: "group", mode: node.mode === "all" ? "any" : "all", children: [blankLeaf()] }); save(); render();
        } }),
        parent ? el("button", { type: "button", "class": "quiet", text: "Remove group", onclick: function () {
          parent.children.splice(parent.children.indexOf(node), 1);
          if (!parent.children.length) parent.children.push(blankLeaf());
          save(); render();
        } }) : null
      ]);
      return el("div", { "class": "rb-group" + (meta.error_path === path ? " rb-error" : ""), role: "group", "data-path": path },
        [head].concat(children).concat([buttons]));
    }

    function render() {
      counter = 0;
      mount.innerHTML = "";
      if (!meta.fields.length) {
        mount.appendChild(el("p", { "class": "muted", text: "The field list is not available; edit the rule as JSON below." }));
        document.getElementById("json-fallback").open = true;
        return;
      }
      mount.appendChild(renderGroup(root, null, "rule"));
    }

    if (!load()) { document.getElementById("json-fallback").open = true; return; }
    save();
    render();
    textarea.addEventListener("change", function () { if (load()) render(); });
  }

  onReady(function () {
    confirmations();
    ruleBuilder();
  });
})();

/* -- a running bulk job: refresh the progress bar every second, and show the outcome when it ends ---------- */
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("job-progress");
    if (!box || box.getAttribute("data-finished") === "true") return;
    var url = box.getAttribute("data-progress-url");
    function set(id, value) { var node = document.getElementById(id); if (node) node.textContent = value; }
    function duration(seconds) {
      if (seconds === null || seconds === undefined) return "—";
      if (seconds < 90) return seconds.toFixed(seconds < 10 ? 1 : 0) + " s";
      if (seconds < 5400) return Math.round(seconds / 60) + " min";
      return (seconds / 3600).toFixed(1) + " h";
    }
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (data) {
          var bar = document.getElementById("job-bar");
          if (data.percent !== null && data.percent !== undefined) { bar.value = data.percent; set("job-percent", data.percent); }
          set("job-status", data.status);
          set("job-stage", data.finished ? "" : data.stage + (data.object_type ? " " + data.object_type : ""));
          set("job-scanned", data.totals.scanned);
          set("job-total", data.total_estimate === null ? "?" : data.total_estimate);
          set("job-linked", data.totals.linked);
          set("job-failed", data.totals.failed);
          set("job-eta", data.finished ? "done" : duration(data.eta_seconds));
          if (data.finished) { window.location.reload(); return; }
          setTimeout(tick, 1000);
        })
        .catch(function () { setTimeout(tick, 3000); });
    }
    setTimeout(tick, 1000);
  }
  if (document.readyState !== "loading") start(); else document.addEventListener("DOMContentLoaded", start);
})();
