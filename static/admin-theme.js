// The config page's live contrast check: as the editor types or picks a
// colour, say how readable the banner stays (WCAG AA asks 4.5 to 1). The
// server checks again when the form is saved; this only says it sooner.
(function () {
  "use strict";
  var form = document.querySelector("form[data-contrast]");
  if (!form) return;
  var COLOUR = /^#[0-9a-fA-F]{6}$/;

  function field(name) {
    return form.querySelector('[name="theme-' + name + '"]');
  }

  function luminance(hex) {
    var sum = 0;
    var weights = [0.2126, 0.7152, 0.0722];
    for (var i = 0; i < 3; i++) {
      var v = parseInt(hex.substr(1 + 2 * i, 2), 16) / 255;
      v = v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
      sum += weights[i] * v;
    }
    return sum;
  }

  function ratio(a, b) {
    var la = luminance(a);
    var lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  function colour(name) {
    if (name === "white") return "#ffffff";
    var input = field(name);
    var value = input ? input.value.trim() : "";
    return COLOUR.test(value) ? value : null;
  }

  function swatch(name) {
    var input = field(name);
    if (!input) return;
    var box = document.createElement("span");
    box.className = "swatch";
    box.setAttribute("aria-hidden", "true");
    box.id = "swatch-" + name;
    input.insertAdjacentElement("afterend", box);
  }

  function update() {
    ["accent", "background", "text"].forEach(function (name) {
      var box = document.getElementById("swatch-" + name);
      var value = colour(name);
      if (box) box.style.backgroundColor = value || "transparent";
    });
    var items = form.querySelectorAll("[data-pair]");
    for (var i = 0; i < items.length; i++) {
      var pair = items[i].getAttribute("data-pair").split(" ");
      var out = items[i].querySelector("strong");
      var a = colour(pair[0]);
      var b = colour(pair[1]);
      var note = items[i].querySelector(".verdict");
      if (!note) {
        note = document.createElement("span");
        note.className = "verdict";
        items[i].appendChild(note);
        // The server's own words are replaced by the live ones.
        var old = out.nextSibling;
        if (old && old !== note && old.nodeType === 3) old.textContent = "";
      }
      if (!a || !b) {
        out.textContent = "not a colour yet";
        note.textContent = "";
        items[i].classList.remove("faint");
        continue;
      }
      var r = ratio(a, b);
      out.textContent = r.toFixed(1) + " to 1";
      note.textContent = r < 4.5 ? " (too faint)" : " (readable)";
      items[i].classList.toggle("faint", r < 4.5);
    }
  }

  ["accent", "background", "text"].forEach(swatch);
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
