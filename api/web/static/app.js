// Progressive enhancement only: every page works without it.
(function () {
  "use strict";
  // The commute slider hides matches (and their map pins) beyond the chosen distance at once;
  // without JavaScript the filter form's button does the same on the server.
  var slider = document.getElementById("max_km");
  if (slider) {
    var out = document.getElementById("max_km-out");
    var note = document.getElementById("hidden-note");
    var apply = function () {
      var limit = parseFloat(slider.value), hidden = 0;
      document.querySelectorAll("li.match[data-km]").forEach(function (li) {
        var off = parseFloat(li.dataset.km) > limit;
        li.hidden = off;
        if (off) { hidden += 1; }
        var pin = document.querySelector('.map .pin[data-rank="' + li.dataset.rank + '"]');
        if (pin) { pin.classList.toggle("is-hidden", off); }
      });
      if (out) { out.textContent = slider.value + " km"; }
      if (note) { note.textContent = hidden ? note.dataset.template.replace("{n}", hidden) : ""; }
    };
    slider.addEventListener("input", apply);
    var kind = document.getElementById("kind");
    if (kind && kind.form && kind.form.id === "match-filters") {
      kind.addEventListener("change", function () { kind.form.submit(); });
    }
  }
  // "Show the full explanation" loads the chart into the row the first time it is opened.
  document.querySelectorAll("details.explain[data-src]").forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (!d.open || d.dataset.loaded) { return; }
      d.dataset.loaded = "1";
      fetch(d.dataset.src, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return r.text();
      }).then(function (html) {
        d.querySelector(".explain-body").innerHTML = html;
      }).catch(function () { delete d.dataset.loaded; });
    });
  });
})();
