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
