/** Absolute path of the folder holding the built page (`index.html` and `assets/`). */
export declare const webRoot: string;
