/* engagement-survey: what JavaScript adds to pages that work without it.
   Autosave states ("Saving…", "Saved", "Could not save, retrying"), retries after a failed save,
   aria-invalid kept in step with server messages, and a visible message when any htmx request fails. */
(function () {
  "use strict";
  var pending = new Map();   // question element -> retry timer
  var attempts = new Map();

  function saveState() { return document.getElementById("save-state"); }

  var refused = new Set();  // questions whose last answer the server refused

  function setState(kind, extra) {
    var el = saveState();
    if (!el) { return; }
    el.classList.remove("saved", "failed", "refused");
    if (kind === "refused") { el.classList.add("refused"); }
    el.textContent = el.dataset[kind] || "";
    if (kind === "saved") { el.classList.add("saved"); }
    if (kind === "failed" || kind === "offline") {
      el.classList.add("failed");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.textContent = el.dataset.retry;
      button.addEventListener("click", retryAll);
      el.append(" ", button);
    }
    if (extra) { el.append(" " + extra); }
  }

  function isAutosave(elt) { return elt && elt.matches && elt.matches("[data-question], .grid-row"); }

  function retry(elt) {
    clearTimeout(pending.get(elt));
    pending.delete(elt);
    if (document.body.contains(elt)) { htmx.trigger(elt, "change"); }
  }

  function retryAll() { Array.from(pending.keys()).forEach(retry); }

  function scheduleRetry(elt) {
    var n = (attempts.get(elt) || 0) + 1;
    attempts.set(elt, n);
    clearTimeout(pending.get(elt));
    var delay = Math.min(60000, 2000 * Math.pow(2, n - 1));
    pending.set(elt, setTimeout(function () { retry(elt); }, delay));
  }

  function requestStatusText(kind) {
    var box = document.getElementById("request-status");
    return box ? box.dataset[kind] : "";
  }

  function showRequestError(message) {
    var box = document.getElementById("request-status");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isAutosave(event.detail.elt)) { setState("saving"); }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!isAutosave(elt)) { return; }
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 200 && status < 300) {
      attempts.delete(elt);
      refused.delete(elt);
      // Saved, but an earlier answer still waits for its retry: say so rather than "Saving…" or "All saved".
      if (pending.size === 0) { setState(refused.size ? "refused" : "saved"); } else { setState("failed"); }
    } else if (status === 422) {
      // A refused answer says why beside the question and was not stored: never "All answers saved" meanwhile.
      // An answer still being given (a ranking with positions left) is not saved yet either.
      var stillGiving = (event.detail.xhr.responseText || "").indexOf("pending-message") !== -1;
      refused.add(elt);
      setState(stillGiving ? "pending" : "refused");
    } else if (status === 0 || status >= 500 || status === 429) {
      setState(navigator.onLine === false ? "offline" : "failed");
      scheduleRetry(elt);
    } else {
      var text = event.detail.xhr.responseText || "";
      var doc = new DOMParser().parseFromString(text, "text/html");
      var message = doc.querySelector("#error-message p");
      showRequestError(message ? message.textContent : requestStatusText("error"));
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    if (isAutosave(event.detail.elt)) { return; }
    var doc = new DOMParser().parseFromString(event.detail.xhr.responseText || "", "text/html");
    var message = doc.querySelector("#error-message p");
    showRequestError(message ? message.textContent : requestStatusText("error"));
  });

  document.addEventListener("htmx:sendError", function (event) {
    if (!isAutosave(event.detail.elt)) { showRequestError(requestStatusText("offline")); }
  });

  window.addEventListener("online", retryAll);

  window.addEventListener("beforeunload", function (event) {
    if (pending.size > 0) { event.preventDefault(); event.returnValue = ""; }
  });

  // Keep aria-invalid on a question's controls in step with the message the server just sent.
  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail.elt;
    var question = elt && elt.closest && elt.closest("[data-question], .grid-row");
    if (!question) { return; }
    var feedback = document.getElementById("feedback-" + (question.dataset.question || question.id.slice(2)));
    if (!feedback) { return; }
    var invalid = feedback.classList.contains("has-error");
    question.classList.toggle("has-error", invalid);
    var controls = question.querySelectorAll("input:not([type=hidden]), select, textarea, fieldset");
    [question].concat(Array.from(controls)).forEach(function (control) {
      if (control === question && !question.matches("[role=radiogroup]")) { return; }
      if (invalid) { control.setAttribute("aria-invalid", "true"); } else { control.removeAttribute("aria-invalid"); }
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    // With JavaScript, answers are saved as they are given: say so (the page without it promises nothing more).
    var state = saveState();
    if (state && state.dataset.autosave) { state.textContent = state.dataset.autosave; }
    var summary = document.getElementById("error-summary") || document.getElementById("new-questions");
    if (summary) { summary.focus(); }
  });
})();
