// The browsable API's HTML forms send JSON, the only body this API reads (a form body is a
// 415). Numbers go as JSON numbers, empty fields are left out (so their defaults apply), and
// the answer replaces the page, as DRF's own form script does for its other methods. The
// Filters form leaves its empty fields out of the query string.
(function () {
  "use strict";

  function csrfToken() {
    var config = document.getElementById("drf_csrf");
    return config ? JSON.parse(config.textContent).csrfToken : "";
  }

  function formBody(form) {
    var body = {};
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (field) {
      if (field.name === "csrfmiddlewaretoken" || field.disabled) {
        return;
      }
      if (field.type === "checkbox") {
        body[field.name] = field.checked;
      } else if (field.tagName === "SELECT" && field.multiple) {
        body[field.name] = Array.from(field.selectedOptions, function (o) { return o.value; });
      } else if (field.value !== "") {
        body[field.name] = field.type === "number" ? Number(field.value) : field.value;
      }
    });
    return body;
  }

  function replaceDocument(html) {
    document.open();
    document.write(html);
    document.close();
  }

  // The Filters dialog's form sends every field, the empty ones too; the API refuses a
  // parameter given empty (a 400), so the fields left blank are left out of the query.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.closest("#filtersModal")) {
      return;
    }
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (field) {
      if (!field.disabled && field.value.trim() === "") {
        field.disabled = true;
      }
    });
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.closest("#post-object-form")) {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "text/html; q=1.0, */*",
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken()
      },
      body: JSON.stringify(formBody(form))
    }).then(function (response) {
      return response.text();
    }).then(replaceDocument);
  }, true);
})();
