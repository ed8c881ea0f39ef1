/** Where operator alerts go (the SNS alert topic in AWS, the console and alerts.log locally). */
export interface Notifier {
  /**
   * Sends one alert. Never put data or secrets in it: it goes to e-mail.
   *
   * @param subject - one line, at most 100 characters (SNS's limit for e-mail subjects)
   * @param message - what happened and what to look at
   */
  notify(subject: string, message: string): Promise<void>;
}
