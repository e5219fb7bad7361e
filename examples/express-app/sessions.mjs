import { randomBytes } from "node:crypto";

/**
 * A fake login: whoever types a name is that user. Sessions live in memory and are found by a
 * random cookie, like a real session store would be; there is no password because the point
 * of the example is what happens after login.
 */
export class Sessions {
  #users = new Map();

  login(response, name) {
    const sid = randomBytes(18).toString("base64url");
    this.#users.set(sid, name);
    response.cookie("sid", sid, { httpOnly: true, sameSite: "lax", path: "/" });
  }

  logout(request, response) {
    this.#users.delete(sidOf(request));
    response.clearCookie("sid", { path: "/" });
  }

  /** The logged-in user's name, or undefined. */
  userOf(request) {
    return this.#users.get(sidOf(request));
  }
}

function sidOf(request) {
  const cookies = request.headers.cookie ?? "";
  const match = /(?:^|;\s*)sid=([^;]+)/.exec(cookies);
  return match?.[1];
}
