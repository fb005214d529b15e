/** Word lists the generator draws from. Plain data, no logic. */

export const FIRST_NAMES = [
  'Adele',
  'Alex',
  'Allan',
  'Amara',
  'Anna',
  'Ben',
  'Bianca',
  'Carlos',
  'Chen',
  'Chloe',
  'Daniel',
  'Diego',
  'Elena',
  'Emma',
  'Erik',
  'Fatima',
  'Grady',
  'Hana',
  'Henrietta',
  'Ivan',
  'Isaiah',
  'Jana',
  'Johanna',
  'Joni',
  'Kenji',
  'Lars',
  'Laura',
  'Lee',
  'Lidia',
  'Lynne',
  'Maria',
  'Megan',
  'Miriam',
  'Nestor',
  'Nora',
  'Omar',
  'Patti',
  'Pradeep',
  'Priya',
  'Rafael',
  'Sara',
  'Sofia',
  'Tom',
  'Uma',
  'Victor',
  'Wei',
  'Yara',
  'Zoe',
];

export const LAST_NAMES = [
  'Adams',
  'Bauer',
  'Becker',
  'Brown',
  'Castillo',
  'Cohen',
  'Diaz',
  'Dubois',
  'Evans',
  'Fernandes',
  'Fischer',
  'Garcia',
  'Gupta',
  'Hansen',
  'Ito',
  'Jansen',
  'Kim',
  'Kowalski',
  'Larsen',
  'Lopez',
  'Martin',
  'Meyer',
  'Moreau',
  'Nakamura',
  'Novak',
  'Okafor',
  'Olsen',
  'Patel',
  'Petrov',
  'Rossi',
  'Schmidt',
  'Silva',
  'Smith',
  'Sousa',
  'Tanaka',
  'Taylor',
  'Vargas',
  'Wagner',
  'Wang',
  'Weber',
  'Williams',
  'Yilmaz',
  'Zimmermann',
];

export const DEPARTMENTS = [
  'Engineering',
  'Finance',
  'Human Resources',
  'Legal',
  'Marketing',
  'Operations',
  'Research',
  'Sales',
  'Support',
  'IT',
];

export const JOB_TITLES: Record<string, string[]> = {
  Engineering: ['Software Engineer', 'Senior Software Engineer', 'Engineering Manager', 'QA Engineer'],
  Finance: ['Accountant', 'Financial Analyst', 'Controller', 'CFO'],
  'Human Resources': ['HR Generalist', 'Recruiter', 'HR Director'],
  Legal: ['Counsel', 'Paralegal', 'General Counsel'],
  Marketing: ['Marketing Specialist', 'Content Writer', 'Marketing Director'],
  Operations: ['Operations Analyst', 'Office Manager', 'COO'],
  Research: ['Researcher', 'Data Scientist', 'Research Lead'],
  Sales: ['Account Executive', 'Sales Engineer', 'Sales Director'],
  Support: ['Support Engineer', 'Support Lead'],
  IT: ['Systems Administrator', 'Security Analyst', 'IT Director'],
};

export const CITIES: Array<[string, string, string]> = [
  ['Seattle', 'United States', 'US'],
  ['New York', 'United States', 'US'],
  ['London', 'United Kingdom', 'GB'],
  ['Berlin', 'Germany', 'DE'],
  ['Paris', 'France', 'FR'],
  ['Tokyo', 'Japan', 'JP'],
  ['Sydney', 'Australia', 'AU'],
  ['Toronto', 'Canada', 'CA'],
];

export const EXTERNAL_DOMAINS = [
  'fabrikam.example',
  'northwind.example',
  'adatum.example',
  'tailspin.example',
];
export const CONSUMER_DOMAINS = ['gmail.com', 'outlook.com', 'hotmail.com', 'yahoo.com', 'icloud.com'];

export const SKUS = {
  E3: { skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965', plans: ['efb87545-963c-4e0d-99df-69c6916d9eb0'] },
  E5: { skuId: '06ebc4ee-1bb5-47dd-8120-11324bc54e06', plans: ['57ff2da0-773e-42df-b2af-ffb7a2317929'] },
  BP: { skuId: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46', plans: ['5dbe027f-2339-4123-9542-606e4d348a72'] },
  P1: { skuId: '078d2b04-f1bd-4111-bbd4-b4b1b354cef4', plans: ['41781fb2-bc02-4b7c-bd55-b576c07bb09d'] },
};

export const MFA_METHODS = [
  'microsoftAuthenticatorPush',
  'softwareOneTimePasscode',
  'mobilePhone',
  'fido2',
  'email',
];

export const TOP_FOLDERS = [
  'Documents',
  'Desktop',
  'Pictures',
  'Attachments',
  'Microsoft Teams Chat Files',
  'Recordings',
];

export const PROJECT_WORDS = [
  'Apollo',
  'Atlas',
  'Borealis',
  'Cascade',
  'Contoso Rebrand',
  'Falcon',
  'Helios',
  'Horizon',
  'Lighthouse',
  'Mercury',
  'Nimbus',
  'Orion',
  'Phoenix',
  'Polaris',
  'Quartz',
  'Summit',
  'Titan',
  'Vega',
  'Zephyr',
];

export const SUB_FOLDERS = [
  'Archive',
  'Budget',
  'Contracts',
  'Design',
  'Drafts',
  'Exports',
  'Final',
  'Invoices',
  'Meeting Notes',
  'Old',
  'Photos',
  'Q1',
  'Q2',
  'Q3',
  'Q4',
  'Reports',
  'Scans',
  'Specs',
  'Templates',
  'Working',
];

export const FILE_STEMS = [
  'Agenda',
  'Analysis',
  'Annual Report',
  'Architecture',
  'Board Deck',
  'Budget',
  'Checklist',
  'Contract',
  'Customer List',
  'Diagram',
  'Draft',
  'Expense Report',
  'Forecast',
  'Handbook',
  'Invoice',
  'Kickoff',
  'Minutes',
  'Notes',
  'Offer Letter',
  'Onboarding',
  'Org Chart',
  'Payroll',
  'Plan',
  'Pricing',
  'Proposal',
  'Quote',
  'Roadmap',
  'Salary Review',
  'Schedule',
  'Screenshot',
  'Specification',
  'Statement',
  'Status',
  'Summary',
  'Timeline',
  'Training',
  'Vendor List',
  'Whitepaper',
];

/** [extension, mimeType, median size bytes, weight] */
export const FILE_TYPES: Array<[string, string, number, number]> = [
  ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 60_000, 22],
  ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 45_000, 16],
  ['pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation', 2_500_000, 8],
  ['pdf', 'application/pdf', 400_000, 16],
  ['png', 'image/png', 350_000, 10],
  ['jpg', 'image/jpeg', 1_800_000, 10],
  ['txt', 'text/plain', 4_000, 4],
  ['csv', 'text/csv', 80_000, 4],
  ['zip', 'application/zip', 20_000_000, 2],
  ['mp4', 'video/mp4', 80_000_000, 2],
  ['msg', 'application/vnd.ms-outlook', 90_000, 3],
  ['json', 'application/json', 8_000, 2],
  ['md', 'text/markdown', 3_000, 1],
];

/** Names that security rules look for. */
export const SENSITIVE_FILES: Array<[string, string, number]> = [
  ['id_rsa', 'application/octet-stream', 3_243],
  ['.env', 'application/octet-stream', 812],
  ['backup.kdbx', 'application/octet-stream', 254_000],
  ['cert.pfx', 'application/x-pkcs12', 4_200],
  ['passwords.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 12_000],
  ['aws-credentials.csv', 'text/csv', 240],
  ['server.key', 'application/octet-stream', 1_704],
];

const MIME_BY_EXT = new Map<string, string>();
for (const [ext, mime] of FILE_TYPES) MIME_BY_EXT.set(ext, mime);
MIME_BY_EXT.set('kdbx', 'application/octet-stream');
MIME_BY_EXT.set('pfx', 'application/x-pkcs12');
MIME_BY_EXT.set('key', 'application/octet-stream');

/** The mime type Graph would report for a file name. */
export function mimeTypeFor(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'application/octet-stream';
  return MIME_BY_EXT.get(name.slice(dot + 1).toLowerCase()) ?? 'application/octet-stream';
}
