// Asks /api/stats every second and shows which worker answered.
async function tick() {
  const r = await fetch("/api/stats");
  document.getElementById("stats").textContent = JSON.stringify(await r.json(), null, 2);
}
tick();
setInterval(tick, 1000);
