/** Dark by default; the user's choice is remembered on this machine. */

export type Theme = 'dark' | 'light';
const STORAGE_KEY = 'painter.theme';

function storedTheme(): Theme {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'light' ? 'light' : 'dark';
  } catch {
    return 'dark'; // storage can be unavailable (privacy settings); the default will do
  }
}

class ThemeState {
  current = $state<Theme>(storedTheme());

  toggle(): void {
    this.current = this.current === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(STORAGE_KEY, this.current);
    } catch {
      // not remembered, still applied
    }
  }
}

export const theme = new ThemeState();
