// CSS-in-JS with Emotion: class names generated at run time, rules inserted into the CSSOM.
import { css, injectGlobal, keyframes } from "@emotion/css";

injectGlobal`
  *, *::before, *::after { box-sizing: border-box; }
  body { margin: 0; font-family: "DejaVu Sans", Arial, sans-serif; color: #1b2330; background: #f4f1ea; }
  body.modal-open { overflow: hidden; }
  a { color: inherit; }
`;

export const shell = css`
  min-height: 100vh;
`;

export const topbar = css`
  position: sticky;
  top: 0;
  z-index: 5;
  display: flex;
  align-items: center;
  gap: 28px;
  height: 64px;
  padding: 0 32px;
  background: #1f3a2e;
  color: #fff;
  h1 { margin: 0; font-size: 22px; letter-spacing: 0.5px; }
  nav { display: flex; gap: 18px; }
  nav a { text-decoration: none; padding: 6px 10px; border-radius: 6px; }
  nav a[aria-current="page"] { background: #f2c14e; color: #1f3a2e; }
`;

export const cartBadge = css`
  margin-left: auto;
  padding: 4px 12px;
  border-radius: 999px;
  background: #f2c14e;
  color: #1f3a2e;
  font-weight: bold;
`;

export const main = css`
  padding: 24px 32px;
`;

export const grid = css`
  display: grid;
  grid-template-columns: repeat(4, 1fr);
  gap: 20px;
`;

export const card = css`
  background: #fff;
  border: 2px solid #d9d2c3;
  border-radius: 12px;
  padding: 14px;
  transition: transform 400ms ease, box-shadow 400ms ease;
  &:hover {
    transform: translateY(-6px);
    box-shadow: 0 12px 24px rgba(31, 58, 46, 0.25);
    border-color: #1f3a2e;
  }
  h3 { margin: 10px 0 4px; font-size: 16px; }
  p { margin: 0 0 10px; color: #5b6472; }
`;

export const swatch = (hue) => css`
  height: 96px;
  border-radius: 8px;
  background: linear-gradient(135deg, hsl(${hue} 70% 55%), hsl(${(hue + 40) % 360} 70% 35%));
`;

export const button = css`
  font: inherit;
  font-size: 14px;
  padding: 7px 14px;
  border: 2px solid #1f3a2e;
  border-radius: 6px;
  background: #f2c14e;
  color: #1f3a2e;
  cursor: pointer;
  & + & { margin-left: 8px; }
  &:disabled { opacity: 0.5; cursor: default; }
`;

export const ghost = css`
  background: #fff;
`;

const fadeIn = keyframes`
  from { opacity: 0; transform: translateY(24px) scale(0.96); }
  to { opacity: 1; transform: none; }
`;

export const backdrop = css`
  position: fixed;
  inset: 0;
  z-index: 20;
  display: grid;
  place-items: center;
  background: rgba(14, 22, 18, 0.6);
`;

export const modal = css`
  width: 560px;
  padding: 24px 28px;
  border-radius: 14px;
  background: #fffdf7;
  border: 3px solid #1f3a2e;
  animation: ${fadeIn} 300ms ease-out;
  h2 { margin: 0 0 12px; }
`;

export const detail = css`
  display: grid;
  grid-template-columns: 360px 1fr;
  gap: 32px;
  background: #fff;
  border-radius: 14px;
  padding: 24px;
  > div:first-of-type { height: 280px; }
`;

export const table = css`
  width: 100%;
  border-collapse: collapse;
  background: #fff;
  th, td { text-align: left; padding: 10px 12px; border-bottom: 1px solid #e4ded1; }
  tfoot td { font-weight: bold; }
`;

export const viewport = css`
  height: 520px;
  overflow: auto;
  background: #fff;
  border: 2px solid #d9d2c3;
  border-radius: 10px;
  position: relative;
`;

export const row = css`
  position: absolute;
  left: 0;
  right: 0;
  display: grid;
  grid-template-columns: 160px 1fr 100px 80px;
  align-items: center;
  padding: 0 16px;
  border-bottom: 1px solid #eee8dc;
  font-variant-numeric: tabular-nums;
  &:nth-of-type(even) { background: #faf7f0; }
`;

export const form = css`
  display: grid;
  grid-template-columns: 1fr 1fr;
  gap: 16px 24px;
  max-width: 760px;
  background: #fff;
  padding: 24px;
  border-radius: 14px;
  label { display: grid; gap: 6px; font-size: 14px; color: #394150; }
  input {
    font: inherit;
    padding: 9px 10px;
    border: 2px solid #c9c1b0;
    border-radius: 6px;
    background: #fffef9;
  }
  .wide { grid-column: 1 / -1; }
`;

export const notice = css`
  margin-top: 20px;
  max-width: 760px;
  padding: 16px 20px;
  border-radius: 10px;
  background: #dff3e4;
  border: 2px solid #2f7a4b;
`;

export const searchbar = css`
  display: flex;
  align-items: center;
  gap: 16px;
  margin-bottom: 16px;
  h2 { margin: 0; }
  input { font: inherit; width: 320px; padding: 8px 12px; border: 2px solid #c9c1b0; border-radius: 999px; background: #fff; }
  input:not(:placeholder-shown) { border-color: #1f3a2e; }
  span { color: #5b6472; }
  & ~ div mark { background: #f2c14e; color: inherit; border-radius: 3px; }
`;
