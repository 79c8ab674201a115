// The /sandbox/ page: the phone/desktop toggle without a reload, images picked from disk, and a reload when
// the sandbox's state changes (a bot answered, a webhook was delivered) while nobody is typing.
(function () {
  "use strict";
  const device = document.getElementById("device");

  document.querySelectorAll(".toggle a[data-device]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      const chosen = link.dataset.device;
      device.classList.remove("mobile", "desktop");
      device.classList.add(chosen);
      device.dataset.device = chosen;
      document.querySelectorAll(".toggle a").forEach(function (other) {
        if (other === link) other.setAttribute("aria-current", "true");
        else other.removeAttribute("aria-current");
      });
      history.replaceState(null, "", link.href);
      document.cookie = "sandbox_view=" + encodeURIComponent(
        [document.body.dataset.account, document.body.dataset.user, chosen].join("|")) + "; path=/sandbox/; SameSite=Lax";
    });
  });

  // An image file becomes the form's image_base64 field.
  document.querySelectorAll("input[type=file][data-base64-into]").forEach(function (input) {
    input.addEventListener("change", function () {
      const target = input.form.elements[input.dataset.base64Into];
      const file = input.files[0];
      if (!file) { target.value = ""; return; }
      const reader = new FileReader();
      reader.onload = function () { target.value = String(reader.result).split(",")[1] || ""; };
      reader.readAsDataURL(file);
    });
  });

  const messages = document.querySelector(".messages");
  if (messages) messages.scrollTop = messages.scrollHeight;

  // Reload when something changed on TikTok's side, unless the person is typing.
  function fingerprint(state) {
    const parts = state.conversations.map(function (c) { return c.conversation_id + ":" + c.messages.length + ":" + c.last_read_ms; });
    parts.push(state.deliveries.map(function (d) { return d.delivery_id + d.status; }).join(","));
    return parts.join("|");
  }
  function busy() {
    const active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA")) return true;
    return Array.prototype.some.call(document.querySelectorAll("input[name=text]"), function (i) { return i.value !== ""; });
  }
  let known = null;
  let leaving = false;  // a form was submitted: its answer is the next page, no reload may race it
  document.addEventListener("submit", function () { leaving = true; });
  window.addEventListener("pagehide", function () { leaving = true; });
  function poll() {
    if (leaving) return;
    fetch("/sandbox/state/", { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (leaving) return;
        const now = fingerprint(state);
        if (known !== null && now !== known && !busy()) {
          const url = new URL(location.href);
          url.searchParams.delete("flash");
          location.replace(url.toString());
          return;
        }
        known = now;
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
