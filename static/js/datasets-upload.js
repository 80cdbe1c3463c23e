// Upload page: drag and drop or choose a file, send it with XHR to show upload progress, then wait
// while the server validates and imports it. The form still works without JavaScript.
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("id_file");
  const zone = document.getElementById("drop-zone");
  const chosen = document.getElementById("chosen-file");
  const errorBox = document.getElementById("upload-error");
  const progress = document.getElementById("upload-progress");
  const bar = document.getElementById("upload-bar");
  const stage = document.getElementById("upload-stage");
  const percent = document.getElementById("upload-percent");
  const submit = document.getElementById("upload-submit");
  const maxBytes = parseInt(form.dataset.maxBytes, 10);
  let file = null;

  function fmt(n) {
    if (n >= 1024 * 1024 * 1024) return (n / 1024 / 1024 / 1024).toFixed(1) + " GB";
    if (n >= 1024 * 1024) return (n / 1024 / 1024).toFixed(1) + " MB";
    if (n >= 1024) return (n / 1024).toFixed(1) + " KB";
    return n + " bytes";
  }
  function showError(message) {
    errorBox.textContent = message;
    errorBox.classList.remove("d-none");
  }
  function clearError() {
    errorBox.textContent = "";
    errorBox.classList.add("d-none");
  }
  function choose(f) {
    clearError();
    file = f || null;
    chosen.textContent = file ? file.name + " · " + fmt(file.size) : "";
    if (file && file.size > maxBytes) {
      showError(file.name + ": the file is " + file.size.toLocaleString("en-US") + " bytes (" + fmt(file.size) +
        "); this organization's upload limit is " + maxBytes.toLocaleString("en-US") + " bytes (" + fmt(maxBytes) + ").");
    }
  }
  input.addEventListener("change", () => choose(input.files[0]));
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (ev) => {
    ev.preventDefault();
    zone.classList.add("dragover");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, (ev) => {
    ev.preventDefault();
    zone.classList.remove("dragover");
  }));
  zone.addEventListener("drop", (ev) => {
    const files = ev.dataTransfer && ev.dataTransfer.files;
    if (files && files.length) choose(files[0]);
  });

  function setProgress(pct, label) {
    progress.classList.remove("d-none");
    bar.style.width = pct + "%";
    percent.textContent = Math.round(pct) + "%";
    if (label) stage.textContent = label;
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearError();
    if (!file) { showError("Choose a file to upload."); return; }
    if (file.size > maxBytes) { choose(file); return; }
    const data = new FormData(form);
    data.set("file", file, file.name);
    data.set("filename", file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    submit.disabled = true;
    setProgress(0, "Uploading " + file.name + "…");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) setProgress((e.loaded / e.total) * 100, "Uploading " + file.name + "…");
    });
    xhr.upload.addEventListener("load", () => {
      setProgress(100, "Uploaded. Checking and importing the file…");
      bar.classList.add("progress-bar-striped", "progress-bar-animated");
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300 && body.redirect) {
        stage.textContent = "Done. Opening the dataset…";
        window.location.href = body.redirect;
        return;
      }
      submit.disabled = false;
      bar.classList.remove("progress-bar-striped", "progress-bar-animated");
      progress.classList.add("d-none");
      showError(body.error || ("The upload failed (HTTP " + xhr.status + "). Please try again."));
    });
    xhr.addEventListener("error", () => {
      submit.disabled = false;
      progress.classList.add("d-none");
      showError("The connection was interrupted during the upload. Please try again.");
    });
    xhr.send(data);
  });
})();
