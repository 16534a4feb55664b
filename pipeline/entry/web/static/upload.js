// The upload page: sends the form with fetch to the REST API (POST /api/v1/batches, the session's CSRF token in
// X-CSRF-Token), then polls the batch's status URL every second: progress bar, one row per document (a link
// to each archived one), the final summary. File names, reasons and errors are untrusted: only textContent.
"use strict";
(() => {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const words = JSON.parse(form.dataset.words || "{}");
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 1000;
  const FINAL = new Set(["done", "incomplete"]);

  const stateText = (state) => (words.states && words.states[state]) || state || "";

  function cell(row, text) {
    const td = row.insertCell();
    td.textContent = text == null ? "" : String(text);
    return td;
  }

  function showError(text) {
    const box = $("upload-error");
    box.textContent = `${words.failed}: ${text}`;
    box.hidden = false;
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (_) { /* not JSON */ }
    return `HTTP ${response.status}`;
  }

  function drawDocuments(documents) {
    const body = $("upload-documents").tBodies[0];
    body.replaceChildren();
    for (const doc of documents || []) {
      const row = body.insertRow();
      row.dataset.source = doc.source || "";
      row.dataset.state = doc.state || "";
      cell(row, doc.source);
      cell(row, stateText(doc.state)).className = "doc-state";
      cell(row, doc.stage);
      const link = cell(row, "");
      if (doc.doc_id && doc.state === "archived") {
        const a = document.createElement("a");
        a.href = `/documents/${encodeURIComponent(doc.doc_id)}`;
        a.className = "doc-link";
        a.textContent = `${words.open} ${String(doc.doc_id).slice(0, 12)}`;
        link.appendChild(a);
      }
      cell(row, doc.reason);
    }
  }

  function drawSummary(status) {
    const box = $("upload-summary");
    box.replaceChildren();
    const title = document.createElement("h3");
    title.textContent = words.summary;
    const list = document.createElement("ul");
    list.id = "upload-summary-list";
    for (const [key, count] of Object.entries(status.summary || {})) {
      const item = document.createElement("li");
      item.dataset.key = key;
      item.dataset.count = String(count);
      item.textContent = `${stateText(key)}: ${count}`;
      list.appendChild(item);
    }
    box.append(title, list);
    if ((status.manifest_errors || []).length) {
      const head = document.createElement("h3");
      head.textContent = words.manifest_errors;
      const errors = document.createElement("ul");
      for (const text of status.manifest_errors) {
        const item = document.createElement("li");
        item.textContent = String(text);
        errors.appendChild(item);
      }
      box.append(head, errors);
    }
    if (status.kept_at) {
      const kept = document.createElement("p");
      kept.textContent = `${words.kept}: ${status.kept_at}`;
      box.appendChild(kept);
    }
    box.hidden = false;
  }

  function draw(status) {
    $("upload-status").hidden = false;
    $("upload-batch").textContent = words.batch.replace("{name}", status.name || "").replace("{id}", status.batch_id);
    const progress = $("upload-progress");
    progress.max = Math.max(status.total || 0, 1);
    progress.value = status.total ? status.finished : 0;
    $("upload-count").textContent = `${status.finished || 0}/${status.total || 0}`;
    const state = $("upload-state");
    state.textContent = stateText(status.state);
    state.dataset.state = status.state;
    const notice = $("upload-notice");  // an outage being waited out, e.g. "S3 server unreachable, retrying 3/8"
    notice.textContent = status.notice || "";
    notice.hidden = !status.notice;
    drawDocuments(status.documents);
    if (FINAL.has(status.state)) {
      progress.value = progress.max;
      drawSummary(status);
    }
  }

  async function follow(url) {
    for (;;) {
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (response.status === 404 || response.status === 401 || response.status === 403) {
          showError(await errorText(response));
          return;
        }
        if (response.ok) {
          const status = await response.json();
          draw(status);
          if (FINAL.has(status.state)) return;
        } else {
          $("upload-state").textContent = words.lost;
        }
      } catch (_) {
        $("upload-state").textContent = words.lost;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  function statusUrl(batchId) {
    return `/api/v1/batches/${encodeURIComponent(batchId)}`;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("upload-error").hidden = true;
    const data = new FormData(form);
    const token = data.get("csrf_token");
    data.delete("csrf_token");
    const manifest = $("upload-manifest");
    if (!manifest.files.length) data.delete("manifest");
    if (!String(data.get("name") || "").trim()) data.delete("name");
    const button = $("upload-submit");
    button.disabled = true;
    button.textContent = words.sending;
    try {
      const response = await fetch("/api/v1/batches", {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": String(token || ""), Accept: "application/json" },
      });
      if (response.status !== 202) {
        showError(await errorText(response));
        return;
      }
      const made = await response.json();
      history.replaceState(null, "", `/upload?batch=${encodeURIComponent(made.batch_id)}`);
      form.reset();
      await follow(made.status_url && made.status_url.startsWith("/") ? made.status_url : statusUrl(made.batch_id));
    } catch (error) {
      showError(String(error));
    } finally {
      button.disabled = false;
      button.textContent = words.submit;
    }
  });

  if (form.dataset.batch) follow(statusUrl(form.dataset.batch));
})();
