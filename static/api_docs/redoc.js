// Starts ReDoc on the schema named by the page (templates/api_docs/redoc.html): no inline script.
"use strict";

// ReDoc's menu shows its maker's logo from the maker's CDN: the docs load nothing from another origin, so an
// image from elsewhere gets an empty picture instead (the link's text stays). Only <img> elements are concerned.
const EMPTY_IMAGE = "data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'/%3E";
const ownSource = (value) => {
  const url = new URL(String(value), location.href);
  return url.protocol === "data:" || url.origin === location.origin ? value : EMPTY_IMAGE;
};
const source = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
Object.defineProperty(HTMLImageElement.prototype, "src", {
  ...source,
  set(value) {
    source.set.call(this, ownSource(value));
  },
});
const setImageAttribute = Element.prototype.setAttribute;
HTMLImageElement.prototype.setAttribute = function setAttribute(name, value) {
  setImageAttribute.call(this, name, String(name).toLowerCase() === "src" ? ownSource(value) : value);
};

const container = document.getElementById("redoc-container");
Redoc.init(container.dataset.schemaUrl, JSON.parse(container.dataset.settings), container);
