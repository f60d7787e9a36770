// The reference facet detector (@atproto/api RichText.detectFacetsWithoutResolution), for the
// contract tests: reads a JSON list of texts on stdin, prints the facets of each as a JSON list.
// Mentions keep the handle where the detector would put the DID after resolving it.
import { RichText } from '@atproto/api'

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => { input += chunk })
process.stdin.on('end', () => {
  const out = JSON.parse(input).map((text) => {
    const rt = new RichText({ text })
    rt.detectFacetsWithoutResolution()
    return rt.facets || []
  })
  process.stdout.write(JSON.stringify(out))
})
