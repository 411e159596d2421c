/* Étanche pages: the little behaviour htmx does not give.
 *
 * The CSP allows scripts from this origin only (no inline script, no eval), so
 * everything lives here:
 * - every htmx request carries the page's CSRF token (X-CSRF-Token), read from
 *   the csrf-token meta tag;
 * - after live validation, inputs whose error region holds a message get
 *   aria-invalid, and their field gets the error style;
 * - a page that comes back with errors or results moves focus to them;
 * - forms with data-confirm ask before an irreversible action.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });

  function syncInvalid() {
    var regions = document.querySelectorAll(".erreur-champ[id]");
    regions.forEach(function (region) {
      var hasError = region.textContent.trim() !== "";
      var inputs = document.querySelectorAll('[aria-describedby~="' + region.id + '"]');
      inputs.forEach(function (input) {
        var targets = input.tagName === "FIELDSET" ? input.querySelectorAll("input") : [input];
        targets.forEach(function (el) {
          if (hasError) {
            el.setAttribute("aria-invalid", "true");
          } else {
            el.removeAttribute("aria-invalid");
          }
        });
      });
      var box = region.closest(".champ, .choix");
      if (box) {
        box.classList.toggle("en-erreur", hasError);
      }
    });
  }

  document.addEventListener("htmx:afterSwap", syncInvalid);
  document.addEventListener("htmx:afterSettle", syncInvalid);
  document.addEventListener("htmx:oobAfterSwap", syncInvalid);

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var question = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  function focusFirst() {
    var target = document.querySelector("[data-focus]");
    if (target) {
      target.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirst);
  } else {
    focusFirst();
  }
})();
