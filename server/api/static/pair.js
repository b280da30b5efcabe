// Shows the invite's server and code from the link (text only: nothing is interpreted).
const query = new URLSearchParams(window.location.search);
document.getElementById("server").textContent = query.get("server") || window.location.origin;
document.getElementById("code").textContent = query.get("code") || "?";
