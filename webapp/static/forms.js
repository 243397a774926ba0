// Task forms: "Add row" on tables of array fields clones the last row with the next index.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-add-row]");
  if (!button) { return; }
  var name = button.getAttribute("data-add-row");
  var body = document.querySelector('table[data-table="' + name + '"] tbody');
  var rows = body.querySelectorAll("tr");
  var last = rows[rows.length - 1];
  var index = rows.length;
  var clone = last.cloneNode(true);
  clone.querySelectorAll("input, select, textarea").forEach(function (input) {
    var parts = input.name.split("-");
    input.name = parts[0] + "-" + index + "-" + parts.slice(2).join("-");
    input.id = "f-" + input.name;
    if (input.type === "checkbox") { input.checked = false; } else { input.value = ""; }
    input.removeAttribute("aria-invalid");
  });
  clone.querySelectorAll(".error").forEach(function (e) { e.remove(); });
  body.appendChild(clone);
});

// Record pickers: an input with data-pick="/erp/pick/<kind>" asks the server for the records that
// match what was typed and offers them in its <datalist> (the browser's own type-ahead list);
// data-pick-material names the input whose material code narrows a lot search.
(function () {
  var timers = new WeakMap();
  function suggest(input) {
    var url = new URL(input.getAttribute("data-pick"), window.location.href);
    url.searchParams.set("q", input.value);
    var materialName = input.getAttribute("data-pick-material");
    if (materialName) {
      var material = input.form ? input.form.elements[materialName] : document.querySelector('[name="' + materialName + '"]');
      if (material && material.value) { url.searchParams.set("material", material.value); }
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (records) {
        var list = document.getElementById(input.getAttribute("list"));
        if (!list) { return; }
        list.textContent = "";
        records.forEach(function (record) {
          var option = document.createElement("option");
          option.value = record.value;
          option.label = record.label;
          option.textContent = record.label;
          list.appendChild(option);
        });
        input.setAttribute("data-picked", String(records.length));
      })
      .catch(function () { /* no suggestions: the field still takes a typed code */ });
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-pick]")) { return; }
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(function () { suggest(input); }, 150));
  });
  document.addEventListener("focusin", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[data-pick]") && !input.hasAttribute("data-picked")) { suggest(input); }
  });
})();
