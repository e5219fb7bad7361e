/** The app's two pages. Plain HTML; the script and styles are files (the CSP allows no inline code). */

const escapeHtml = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );

const layout = (body) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>Clipboard — an app using cleancut</title>
  <link rel="stylesheet" href="/static/style.css" />
</head>
<body>
${body}
</body>
</html>
`;

export const loginPage = () =>
  layout(`<main class="narrow">
  <h1>Clipboard</h1>
  <p>An example app: log in as anyone (there is no password).</p>
  <form method="post" action="/login">
    <label>Your name <input name="name" required maxlength="40" autocomplete="username" /></label>
    <button type="submit">Log in</button>
  </form>
</main>`);

export const homePage = (user) =>
  layout(`<header>
  <h1>Clipboard</h1>
  <form method="post" action="/logout">Logged in as <strong id="user">${escapeHtml(user)}</strong> <button type="submit">Log out</button></form>
</header>
<main>
  <section>
    <h2>Upload a video</h2>
    <form id="new-upload">
      <label>Title <input id="new-title" required maxlength="100" /></label>
      <label>File <input id="new-file" type="file" accept="video/*" required /></label>
      <button type="submit">Upload</button>
    </form>
    <p id="new-status" role="status"></p>
    <iframe id="uploader" title="Upload" hidden></iframe>
  </section>
  <section>
    <h2>My videos</h2>
    <p id="empty">None yet.</p>
    <ul id="videos"></ul>
    <ul id="notes"></ul>
  </section>
</main>
<script type="module" src="/static/app.js"></script>`);
