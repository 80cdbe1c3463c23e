// Polls each .job-progress block's job until it finishes; reloads the page when asked to (not after a failure:
// the reason stays in the block).
(function () {
  function csrf() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function update(el, job) {
    el.dataset.status = job.status;
    el.querySelector(".job-stage").textContent = job.stage;
    el.querySelector(".job-percent").textContent = Math.round(job.percent);
    el.querySelector(".job-elapsed").textContent = job.elapsed_seconds === null ? 0 : Math.round(job.elapsed_seconds);
    el.querySelector(".job-queue").textContent = job.queue_position ? "Position " + job.queue_position + " in your organization's queue" : "";
    const attempt = el.querySelector(".job-attempt");
    if (attempt) {
      attempt.hidden = !(job.attempts > 1);
      attempt.textContent = "Attempt " + job.attempts + " of " + job.max_attempts;
    }
    const bar = el.querySelector(".progress-bar");
    bar.style.width = job.percent + "%";
    el.querySelector(".progress").setAttribute("aria-valuenow", Math.round(job.percent));
    const err = el.querySelector(".job-error");
    if (job.error) { err.hidden = false; err.textContent = job.error; }
    if (!["queued", "running"].includes(job.status)) {
      bar.classList.remove("progress-bar-animated", "progress-bar-striped");
      if (job.status === "failed") bar.classList.add("bg-danger");
      if (job.status === "succeeded") bar.classList.add("bg-success");
      const btn = el.querySelector(".job-cancel");
      if (btn) btn.remove();
      return true;
    }
    return false;
  }
  function poll(el) {
    fetch(el.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => r.json())
      .then((job) => {
        const done = update(el, job);
        if (done) {
          el.dispatchEvent(new CustomEvent("job:finished", { bubbles: true, detail: job }));
          // A failed job's reason is shown here, in place: reloading would swap it for the page's own failed
          // state a moment after it appeared. Success and cancellation reload to show the page's new state.
          if (el.dataset.reload === "1" && job.status !== "failed") setTimeout(() => window.location.reload(), 400);
        } else {
          setTimeout(() => poll(el), 1000);
        }
      })
      .catch(() => setTimeout(() => poll(el), 3000));
  }
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest(".job-cancel");
    if (!btn) return;
    const el = btn.closest(".job-progress");
    btn.disabled = true;
    btn.textContent = "Cancelling…";
    fetch(el.dataset.cancelUrl, { method: "POST", headers: { "X-CSRFToken": csrf(), Accept: "application/json" }, credentials: "same-origin" });
  });
  document.querySelectorAll(".job-progress").forEach((el) => {
    if (["queued", "running"].includes(el.dataset.status)) poll(el);
  });
})();
