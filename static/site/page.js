// The product's pages carry no inline script (the Content-Security-Policy allows none): their few behaviours are
// declared with data attributes and handled here, for the whole document.
"use strict";

// <select data-submit-on-change>: choosing submits the form (a <noscript> button does it without script).
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-submit-on-change]");
  if (select && select.form) {
    select.form.submit();
  }
});

// <form data-confirm="question">: submitted only once the question is answered yes.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// <img data-fallback-next>: an image that cannot load gives its place to the (hidden) element after it.
// Error events do not bubble: listen in the capture phase, from the head, before any image has failed.
document.addEventListener(
  "error",
  (event) => {
    const image = event.target;
    if (image instanceof HTMLImageElement && image.hasAttribute("data-fallback-next")) {
      if (image.nextElementSibling) {
        image.nextElementSibling.hidden = false;
      }
      image.remove();
    }
  },
  true,
);
