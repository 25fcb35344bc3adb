import { launchCommand } from './launch.js';

export const command = launchCommand('resume');
