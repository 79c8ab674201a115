// Typing a new account's username or country chooses "Create a new account".
(function () {
  "use strict";
  const choice = document.querySelector("input[name=account][value=new]");
  document.querySelectorAll("input[name=new_username], input[name=country]").forEach(function (input) {
    input.addEventListener("focus", function () { choice.checked = true; });
  });
})();
